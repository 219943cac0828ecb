/**
 * `npm run cluster -- up | env | status | down`: the local control plane for trying the platform
 * on one machine. State lives in .plinth/cluster (or PLINTH_CLUSTER_DIR).
 */
import { resolve } from 'node:path';
import { exportLines, readClusterState, startCluster, stopCluster } from './control-plane.js';

const dir = resolve(process.env['PLINTH_CLUSTER_DIR'] ?? '.plinth/cluster');
const usage = 'usage: npm run cluster -- up | env | status | down';

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const state = await startCluster({
        dir,
        jobDurationMs: process.env['PLINTH_JOB_DURATION_MS']
          ? Number(process.env['PLINTH_JOB_DURATION_MS'])
          : undefined,
      });
      console.log(`# kubeconfig: ${state.kubeconfig}\n# to use it:`);
      console.log(exportLines(state).join('\n'));
      return 0;
    }
    case 'env': {
      const state = readClusterState(dir);
      if (!state) {
        console.error(`no cluster is running from ${dir}; start one with: npm run cluster -- up`);
        return 1;
      }
      console.log(exportLines(state).join('\n'));
      return 0;
    }
    case 'status': {
      const state = readClusterState(dir);
      console.log(
        state ? `running from ${dir}: API ${state.server}, nodes ${state.nodes.join(', ')}` : `not running (${dir})`,
      );
      return state ? 0 : 1;
    }
    case 'down':
      await stopCluster(dir);
      console.error(`[cluster] stopped; removed ${dir}`);
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
