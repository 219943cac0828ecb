/**
 * `npm run cluster -- up [--simulated] | env | status | store-secrets | down`: the local control
 * plane for trying the platform on one machine. State lives in .plinth/cluster (or PLINTH_CLUSTER_DIR).
 */
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  exportLines,
  readClusterState,
  removeLeftoverNodeNetwork,
  startCluster,
  stopCluster,
} from './control-plane.js';
import { nodeModeFrom, realNodeOptions } from './real-node-options.js';
import { writeFreshStoreSecrets } from './store-secrets.js';
import { validatePlatformConfig } from '../model/config/validate.js';
import { environments } from '../stacks/environments/index.js';

const dir = resolve(process.env['PLINTH_CLUSTER_DIR'] ?? '.plinth/cluster');
const usage = 'usage: npm run cluster -- up [--simulated] | env | status | store-secrets | down';

async function main(command: string | undefined, args: readonly string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const log = (line: string) => console.error(line);
      const state = await startCluster({
        dir,
        log,
        jobDurationMs: process.env['PLINTH_JOB_DURATION_MS']
          ? Number(process.env['PLINTH_JOB_DURATION_MS'])
          : undefined,
        realNodes: nodeModeFrom(args) === 'real' ? await realNodeOptions() : undefined,
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
    case 'store-secrets': {
      // For `kubectl apply` of dist/local, which cannot carry them; `pulumi up -s local` writes its own.
      const state = readClusterState(dir);
      if (!state) {
        console.error(`no cluster is running from ${dir}; start one with: npm run cluster -- up`);
        return 1;
      }
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfig);
      const written = await writeFreshStoreSecrets(kc, validatePlatformConfig('local', environments['local']));
      console.error(`[cluster] wrote ${written.join(', ')}`);
      return 0;
    }
    case 'status': {
      const state = readClusterState(dir);
      const real = new Set(state?.realNodes?.map((n) => n.name));
      const nodes = state?.nodes.map((n) => (real.has(n) ? `${n} (real)` : n)).join(', ');
      console.log(state ? `running from ${dir}: API ${state.server}, nodes ${nodes}` : `not running (${dir})`);
      return state ? 0 : 1;
    }
    case 'down': {
      const running = readClusterState(dir);
      await stopCluster(dir);
      // With no state here, a real cluster's network may be all that is left of it.
      if (!running) {
        const problems = removeLeftoverNodeNetwork();
        if (problems.length > 0) throw new Error(`the node network was not fully removed:\n${problems.join('\n')}`);
      }
      console.error(`[cluster] stopped; removed ${dir}`);
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
