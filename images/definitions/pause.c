/*
 * The pod sandbox's process: it holds the pod's namespaces for its containers and, as the pod's
 * PID 1 when the pod shares its process namespace, reaps orphaned children. It exits at once on
 * SIGINT or SIGTERM so that a pod stops without waiting for the kubelet's SIGKILL.
 */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal) {
  (void)signal;
  _exit(0);
}

static void reap(int signal) {
  (void)signal;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  /* Signals stay blocked except inside sigsuspend: pause() without the race of a signal that
   * arrives between its check and the wait. */
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_BLOCK, &all, NULL);

  struct sigaction on_stop = {.sa_handler = stop};
  struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  sigfillset(&on_stop.sa_mask);
  sigfillset(&on_child.sa_mask);
  if (sigaction(SIGINT, &on_stop, NULL) != 0 || sigaction(SIGTERM, &on_stop, NULL) != 0 ||
      sigaction(SIGCHLD, &on_child, NULL) != 0) {
    return 1;
  }

  for (;;) {
    sigsuspend(&none);
  }
}
