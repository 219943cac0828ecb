import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  issueServingCertificate,
  pemCertificates,
  RENEW_BEFORE_DAYS,
  serviceHosts,
  stillServes,
  trustedAfterRotation,
  VALIDITY_DAYS,
} from '../../../controller/logs-api/serving-certificate.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-12-07T10:00:00Z');
const HOSTS = serviceHosts({ name: 'plinth-controller', namespace: 'plinth' });

describe("the logs API's serving certificate", () => {
  it('names the Service as the API server dials it, for a year, for serving only', async () => {
    const issued = await issueServingCertificate(HOSTS, NOW);
    const cert = new X509Certificate(issued.cert);
    expect(HOSTS).toEqual(['plinth-controller.plinth.svc', 'plinth-controller.plinth.svc.cluster.local']);
    expect(cert.subjectAltName).toBe(
      'DNS:plinth-controller.plinth.svc, DNS:plinth-controller.plinth.svc.cluster.local',
    );
    expect(new Date(cert.validTo).getTime() - NOW.getTime()).toBeGreaterThan((VALIDITY_DAYS - 1) * DAY_MS);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('still serves until it is due, and not for another Service or with another key', async () => {
    const issued = await issueServingCertificate(HOSTS, NOW);
    const other = await issueServingCertificate(HOSTS, NOW);
    expect(stillServes(issued, HOSTS, NOW)).toBe(true);
    const due = new Date(NOW.getTime() + (VALIDITY_DAYS - RENEW_BEFORE_DAYS + 1) * DAY_MS);
    expect(stillServes(issued, HOSTS, due)).toBe(false);
    expect(stillServes(issued, serviceHosts({ name: 'plinth-logs-api-test', namespace: 'plinth' }), NOW)).toBe(false);
    expect(stillServes({ cert: issued.cert, key: other.key }, HOSTS, NOW)).toBe(false);
    expect(stillServes({ cert: '', key: '' }, HOSTS, NOW)).toBe(false);
  });

  it('keeps the old certificate trusted beside the new one until the old expires', async () => {
    const old = await issueServingCertificate(HOSTS, NOW);
    const later = new Date(NOW.getTime() + (VALIDITY_DAYS - RENEW_BEFORE_DAYS) * DAY_MS);
    const next = await issueServingCertificate(HOSTS, later);
    const bundle = trustedAfterRotation(next.cert, trustedAfterRotation(old.cert, '', NOW), later);
    expect(pemCertificates(bundle)).toEqual([next.cert.trim(), old.cert.trim()]);
    const afterOldExpired = new Date(NOW.getTime() + (VALIDITY_DAYS + 1) * DAY_MS);
    expect(pemCertificates(trustedAfterRotation(next.cert, bundle, afterOldExpired))).toEqual([next.cert.trim()]);
  });
});
