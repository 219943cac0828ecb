/**
 * What a build prints while it runs, on stderr (stdout carries only references): a line as each
 * step starts, with the seconds since the image's build started, and a line every half minute
 * while a long step runs.
 */
const HEARTBEAT_MS = 30_000;

export type Print = (line: string) => void;

export const printToStderr: Print = (line) => process.stderr.write(`${line}\n`);

export class Progress {
  private readonly started = Date.now();

  constructor(
    private readonly image: string,
    private readonly print: Print,
  ) {}

  seconds(): number {
    return Math.round((Date.now() - this.started) / 1000);
  }

  say(message: string): void {
    this.print(`[images] ${this.image} ${this.seconds()}s: ${message}`);
  }

  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    this.say(label);
    const stepStarted = Date.now();
    const timer = setInterval(
      () => this.say(`still ${label} (${Math.round((Date.now() - stepStarted) / 1000)}s in this step)`),
      HEARTBEAT_MS,
    );
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
}
