import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ApiException, type KubeConfig, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LOGS_API } from '../api/logs.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { runsPath, type Run } from '../api/run.js';
import { readContainerLog } from '../logs/container-log-reader.js';
import type { LogStore } from '../logs/log-store.js';
import {
  checkLogExists,
  NoSuchLog,
  runLogContainers,
  streamRunLogs,
  type RunLogSources,
} from '../logs/run-log-stream.js';
import { isFinalStatus } from '../runs/run-status.js';
import { ApiReader } from '../runtime/api-reader.js';
import { PLINTH_LABELS } from '../../model/labels.js';
import { refusalToRead } from './access-review.js';
import { callerOf, readFrontProxy, type Caller, type FrontProxy, type Headers } from './request-identity.js';
import { parseRunLogsQuery } from './run-logs-query.js';
import { ServingSecret } from './serving-secret.js';

/** How often the serving certificate and the API server's front-proxy CA are looked at again. */
const REFRESH_MS = 10 * 60 * 1000;
/** ... and while the APIService does not trust the certificate yet (a platform being applied). */
const REFRESH_UNREGISTERED_MS = 15 * 1000;

/**
 * Log reads open at once on a replica, followed ones included: each holds a connection through the
 * API server to a kubelet. Past it a read is refused (429) rather than slowing every other.
 */
const MAX_OPEN_READS = 256;

const GROUP_VERSION = `${LOGS_API.group}/${LOGS_API.version}`;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const RUN_PATH = new RegExp(
  `^/apis/${LOGS_API.group.replace(/\./g, '\\.')}/${LOGS_API.version}/namespaces/([^/]+)/${LOGS_API.resource}/([^/]+)(?:/([^/]+))?$`,
);

/** The discovery documents the API server reads to list the API, and to tell it is available. */
const DISCOVERY: Record<string, object> = {
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: LOGS_API.group,
        versions: [{ groupVersion: GROUP_VERSION, version: LOGS_API.version }],
        preferredVersion: { groupVersion: GROUP_VERSION, version: LOGS_API.version },
      },
    ],
  },
  [`/apis/${LOGS_API.group}`]: {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: LOGS_API.group,
    versions: [{ groupVersion: GROUP_VERSION, version: LOGS_API.version }],
    preferredVersion: { groupVersion: GROUP_VERSION, version: LOGS_API.version },
  },
  [`/apis/${GROUP_VERSION}`]: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: [
      {
        name: LOGS_API.resource,
        singularName: LOGS_API.resource,
        namespaced: true,
        kind: LOGS_API.kind,
        verbs: ['get'],
      },
      {
        name: `${LOGS_API.resource}/${LOGS_API.subresource}`,
        singularName: '',
        namespaced: true,
        kind: LOGS_API.kind,
        verbs: ['get'],
      },
    ],
  },
};

/** An error as a caller may read it: the API server's own message, not the request's headers and body. */
function briefly(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as { message?: unknown } | undefined;
    return typeof body?.message === 'string' ? body.message : `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A failure as the Kubernetes API answers one, which kubectl and client libraries show as such. */
function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
}

export interface LogsApiOptions {
  readonly host: string;
  readonly port: number;
  /** The platform's namespace: the serving Secret's, and the default Service's. */
  readonly namespace: string;
  readonly defaults: PlatformDefaults;
  /** The archive, where the platform keeps one; without it, logs are read from the pods alone. */
  readonly store: LogStore | undefined;
}

/** A store with nothing in it: a platform that archives no logs reads them from the pods alone. */
const NO_ARCHIVE: LogStore = {
  put: () => Promise.reject(new Error('this platform archives no logs')),
  list: () => Promise.resolve([]),
  get: () => Promise.resolve(''),
};

/**
 * The read API of runs' logs (api/logs.ts LOGS_API), served by every controller replica, leader or
 * not: reads need no lease. Behind the API server, which authenticates and authorizes each
 * request and forwards it over TLS; this server serves with its own certificate
 * (serving-secret.ts), takes requests only from the API server (request-identity.ts), asks RBAC
 * again (access-review.ts), and reads the controller's archive and pods with the controller's
 * own credentials: no caller's credential reaches the store.
 */
export class LogsApiServer {
  private refresher: NodeJS.Timeout | undefined;
  private proxy!: FrontProxy;
  private readonly reader: ApiReader;
  private readonly secret: ServingSecret;
  private readonly reads = new Set<AbortController>();

  private constructor(
    private readonly kc: KubeConfig,
    private readonly options: LogsApiOptions,
    private readonly log: Logger,
    private server: Server | undefined = undefined,
  ) {
    this.reader = new ApiReader(kc);
    this.secret = new ServingSecret(kc, options.namespace, log);
  }

  /** Listens once it has its certificate and the API server's front-proxy CA. */
  static async start(kc: KubeConfig, options: LogsApiOptions, log: Logger): Promise<LogsApiServer> {
    const api = new LogsApiServer(kc, options, log);
    api.proxy = await readFrontProxy(kc);
    const { certificate, registered } = await api.secret.ensure();
    const server = createServer(
      {
        cert: certificate.cert,
        key: certificate.key,
        ca: api.proxy.clientCa,
        // The API server presents its front-proxy certificate; anyone else is answered, and refused.
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => void api.handle(req, res),
    );
    api.server = server;
    server.listen(options.port, options.host);
    await once(server, 'listening');
    api.scheduleRefresh(registered);
    return api;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearTimeout(this.refresher);
    this.reads.forEach((r) => r.abort());
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Takes up a rotated certificate, or a rotated front-proxy CA, without a restart. */
  private scheduleRefresh(registered: boolean): void {
    this.refresher = setTimeout(
      () => {
        void (async () => {
          let nowRegistered = registered;
          try {
            this.proxy = await readFrontProxy(this.kc);
            const { certificate, registered: trusted } = await this.secret.ensure();
            nowRegistered = trusted;
            this.server?.setSecureContext({
              cert: certificate.cert,
              key: certificate.key,
              ca: this.proxy.clientCa,
              minVersion: 'TLSv1.2',
            });
          } catch (error) {
            this.log.warn({ err: error }, "the logs API's certificate could not be looked at; serving the one it has");
          }
          this.scheduleRefresh(nowRegistered);
        })();
      },
      registered ? REFRESH_MS : REFRESH_UNREGISTERED_MS,
    ).unref();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://logs-api');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const socket = req.socket as TLSSocket;
      const name = socket.getPeerCertificate()?.subject?.CN;
      const peer = { authorized: socket.authorized, commonName: Array.isArray(name) ? name[0] : name };
      const headers = req.headersDistinct as Headers;
      const discovery = DISCOVERY[path];
      const who = callerOf(peer, headers, this.proxy, discovery === undefined);
      if ('refused' in who) return sendStatus(res, 401, 'Unauthorized', who.refused);
      if (req.method !== 'GET') {
        return sendStatus(res, 405, 'MethodNotAllowed', `the logs API only reads: ${req.method ?? ''} is not allowed`);
      }
      if (discovery) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(discovery));
      }
      const match = RUN_PATH.exec(path);
      const [, namespace = '', run = '', subresource] = match ?? [];
      if (!match || (subresource !== undefined && subresource !== LOGS_API.subresource)) {
        return sendStatus(res, 404, 'NotFound', `the logs API has no ${path}`);
      }
      if (!DNS_LABEL.test(namespace) || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(run)) {
        return sendStatus(res, 400, 'BadRequest', `"${namespace}/${run}" is not a namespace and a run name`);
      }
      await this.serveRun(who.caller as Caller, namespace, run, subresource !== undefined, url.searchParams, res);
    } catch (error) {
      this.log.warn({ err: error, path: req.url }, 'a logs API request failed');
      sendStatus(res, 500, 'InternalError', `reading the logs failed: ${briefly(error)}`);
    }
  }

  private async serveRun(
    caller: Caller,
    namespace: string,
    name: string,
    wantsLog: boolean,
    params: URLSearchParams,
    res: ServerResponse,
  ): Promise<void> {
    const refusal = await refusalToRead(this.kc, caller, namespace, name, wantsLog ? LOGS_API.subresource : undefined);
    if (refusal !== undefined) {
      const what = wantsLog ? `${LOGS_API.resource}/${LOGS_API.subresource}` : LOGS_API.resource;
      return sendStatus(
        res,
        403,
        'Forbidden',
        `${caller.user} may not get ${what} "${name}" in ${namespace}: ${refusal}`,
      );
    }
    const query = parseRunLogsQuery(params);
    if ('error' in query) return sendStatus(res, 400, 'BadRequest', query.error);
    const team = this.options.defaults.teams[namespace]?.team;
    if (!team) return sendStatus(res, 404, 'NotFound', `namespace ${namespace} holds no team's runs`);
    const current = await this.reader.get<Run>(runsPath(namespace, name));
    const runUid = query.uid ?? current?.metadata?.uid;
    if (!runUid) {
      return sendStatus(
        res,
        404,
        'NotFound',
        `run "${name}" not found in ${namespace}; a deleted run's logs are read by its uid (?uid=), while they are kept`,
      );
    }
    const sources = this.sources(namespace, name, runUid);

    if (!wantsLog) {
      if ([...params.keys()].some((key) => key !== 'uid')) {
        return sendStatus(
          res,
          400,
          'BadRequest',
          `the RunLogs object takes only uid; the log (${name}/${LOGS_API.subresource}) takes the rest`,
        );
      }
      const containers = await runLogContainers({ team, runUid }, sources);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({
          apiVersion: GROUP_VERSION,
          kind: LOGS_API.kind,
          // The run's own creation, so that `kubectl get runlogs` shows its age.
          metadata: {
            name,
            namespace,
            ...(current?.metadata?.uid === runUid ? { creationTimestamp: current.metadata.creationTimestamp } : {}),
          },
          runUid,
          finished: await sources.runFinished(),
          containers,
        }),
      );
    }

    try {
      await checkLogExists({ team, runUid, pod: query.pod, container: query.container }, sources);
    } catch (error) {
      if (error instanceof NoSuchLog) return sendStatus(res, 404, 'NotFound', error.message);
      throw error;
    }

    if (this.reads.size >= MAX_OPEN_READS) {
      return sendStatus(
        res,
        429,
        'TooManyRequests',
        `${MAX_OPEN_READS} log reads are open on this replica; try again when one has ended`,
      );
    }
    const abort = new AbortController();
    this.reads.add(abort);
    res.on('close', () => abort.abort());
    const write = async (text: string) => {
      if (abort.signal.aborted) return;
      if (!res.write(text)) await once(res, 'drain', { signal: abort.signal }).catch(() => undefined);
    };
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    // A followed log shows it is open before its first line: clients time out on silent headers.
    if (query.follow) res.flushHeaders();
    try {
      await streamRunLogs({ namespace, team, runUid, ...query }, sources, write, abort.signal);
      res.end();
    } catch (error) {
      if (error instanceof NoSuchLog) return sendStatus(res, 404, 'NotFound', error.message);
      if (abort.signal.aborted) return;
      this.log.warn({ err: error, run: `${namespace}/${name}` }, 'a log read failed');
      // Once lines went out, the only way to say the read is incomplete is to break it off.
      sendStatus(res, 500, 'InternalError', `reading the log failed: ${briefly(error)}`);
    } finally {
      this.reads.delete(abort);
    }
  }

  /** The run's archive and pods, read with the controller's own credentials. */
  private sources(namespace: string, name: string, runUid: string): RunLogSources {
    const location = this.options.defaults.logArchive;
    return {
      store: this.options.store ?? NO_ARCHIVE,
      storePrefix: location?.prefix ?? '',
      readLive: (read, onLines, signal) => readContainerLog(this.kc, read, onLines, signal),
      runPods: async () => {
        const selector = encodeURIComponent(`${PLINTH_LABELS.runUid}=${runUid}`);
        const pods = await this.reader.get<V1PodList>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${selector}`);
        return pods?.items ?? [];
      },
      pod: async (pod) => {
        const found = await this.reader.get<V1Pod>(`/api/v1/namespaces/${namespace}/pods/${pod}`);
        return found?.metadata?.labels?.[PLINTH_LABELS.runUid] === runUid ? found : undefined;
      },
      runFinished: async () => {
        const now = await this.reader.get<Run>(runsPath(namespace, name));
        return !now || now.metadata?.uid !== runUid || isFinalStatus(now.status);
      },
    };
  }
}
