import { ApiException, HttpMethod, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LOGS_API_SERVICE_NAME, LOGS_API_SERVING_SECRET } from '../api/logs.js';
import { callApi } from '../runtime/api-call.js';
import { ApiReader } from '../runtime/api-reader.js';
import { APP_LABELS } from '../../model/labels.js';
import { CONTROLLER_COMPONENT, CONTROLLER_NAME } from '../../model/names.js';
import {
  issueServingCertificate,
  serviceHosts,
  stillServes,
  trustedAfterRotation,
  type ServingCertificate,
} from './serving-certificate.js';

const API_SERVICE_PATH = `/apis/apiregistration.k8s.io/v1/apiservices/${LOGS_API_SERVICE_NAME}`;

interface ApiService {
  metadata?: { resourceVersion?: string };
  spec?: { service?: { name?: string; namespace?: string }; caBundle?: string };
}

const decode = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');
const encode = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

/** What the Secret holds: the certificate served, its key, and every certificate still trusted. */
interface Held extends ServingCertificate {
  readonly trusted: string;
}

/**
 * Keeps the read API's serving certificate: reads it from its Secret, issues a new one when there
 * is none or it is due (serving-certificate.ts), and puts what is trusted into the APIService's
 * caBundle. Every replica calls it; the Secret's resourceVersion decides between two that rotate
 * at once, and the loser serves the winner's certificate.
 */
export class ServingSecret {
  private readonly reader: ApiReader;
  private readonly secretPath: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {
    this.reader = new ApiReader(kc);
    this.secretPath = `/api/v1/namespaces/${namespace}/secrets/${LOGS_API_SERVING_SECRET}`;
  }

  /**
   * The certificate to serve now. Also whether the APIService trusts it: false while the APIService
   * does not exist yet (a platform being applied), so the caller looks again soon.
   */
  async ensure(now = new Date()): Promise<{ certificate: ServingCertificate; registered: boolean }> {
    const apiService = await this.reader.get<ApiService & { kind?: string }>(API_SERVICE_PATH);
    // The API server dials the Service the APIService names, by that name: the certificate names it.
    const service = apiService?.spec?.service;
    const hosts = serviceHosts({
      // The platform's own Service, until the APIService (applied with it) says otherwise.
      name: service?.name ?? CONTROLLER_COMPONENT,
      namespace: service?.namespace ?? this.namespace,
    });
    const held = await this.current(hosts, now);
    if (!apiService) return { certificate: held, registered: false };
    if (decode(apiService.spec?.caBundle) !== held.trusted) {
      await callApi(
        this.kc,
        HttpMethod.PATCH,
        API_SERVICE_PATH,
        { spec: { caBundle: encode(held.trusted) } },
        'application/merge-patch+json',
      );
      this.log.info({ apiService: LOGS_API_SERVICE_NAME }, "put the logs API's serving certificate in its APIService");
    }
    return { certificate: held, registered: true };
  }

  /** The Secret's certificate if it still serves these hosts; otherwise a new one, written there first. */
  private async current(hosts: readonly string[], now: Date, lostRace = false): Promise<Held> {
    const secret = await this.reader.get<V1Secret>(this.secretPath);
    const held: Held = {
      cert: decode(secret?.data?.['tls.crt']),
      key: decode(secret?.data?.['tls.key']),
      trusted: decode(secret?.data?.['ca.crt']),
    };
    if (secret && stillServes(held, hosts, now)) return held;

    const issued = await issueServingCertificate(hosts, now);
    const next: Held = { ...issued, trusted: trustedAfterRotation(issued.cert, held.trusted, now) };
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: LOGS_API_SERVING_SECRET,
        namespace: this.namespace,
        labels: { [APP_LABELS.managedBy]: CONTROLLER_NAME },
        ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
      },
      data: { 'tls.crt': encode(next.cert), 'tls.key': encode(next.key), 'ca.crt': encode(next.trusted) },
    };
    try {
      if (secret) await callApi(this.kc, HttpMethod.PUT, this.secretPath, body);
      else await callApi(this.kc, HttpMethod.POST, `/api/v1/namespaces/${this.namespace}/secrets`, body);
    } catch (error) {
      // Another replica wrote it first: serve what it wrote.
      if (!lostRace && error instanceof ApiException && error.code === 409) return this.current(hosts, now, true);
      throw error;
    }
    this.log.info(
      { secret: `${this.namespace}/${LOGS_API_SERVING_SECRET}`, hosts },
      "issued the logs API's serving certificate",
    );
    return next;
  }
}
