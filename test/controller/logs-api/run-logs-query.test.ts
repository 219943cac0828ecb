import { describe, expect, it } from 'vitest';
import { parseRunLogsQuery } from '../../../controller/logs-api/run-logs-query.js';

const parse = (query: string) => parseRunLogsQuery(new URLSearchParams(query));

describe('a log read query', () => {
  it('labels every line with its container by default, and none when one container is asked for', () => {
    expect(parse('')).toEqual({
      pod: undefined,
      container: undefined,
      follow: false,
      timestamps: false,
      prefix: true,
      uid: undefined,
    });
    expect(parse('pod=train-abc&container=main&follow=true')).toMatchObject({ follow: true, prefix: false });
    expect(parse('container=main')).toMatchObject({ prefix: false });
    expect(parse('pod=train-abc')).toMatchObject({ prefix: true });
    expect(parse('container=main&prefix=true')).toMatchObject({ prefix: true });
  });

  it.each([
    ['folow=true', 'unknown parameter "folow"; the log takes: pod, container, follow, timestamps, prefix, uid'],
    ['follow=yes', 'follow: "yes" is not "true" or "false"'],
    ['container=Main', 'container: "Main" is not a container name (a DNS label)'],
    ['pod=../secrets', 'pod: "../secrets" is not a pod name (lower-case letters, digits, "-" and ".")'],
    ['uid=abc', 'uid: "abc" is not a uid, as metadata.uid gives it'],
    ['container=a&container=b', 'parameter "container" is given twice'],
  ])('refuses %s, naming the parameter and what it takes', (query, error) => {
    expect(parse(query)).toEqual({ error });
  });
});
