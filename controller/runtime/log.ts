import { pino } from 'pino';

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level = process.env['LOG_LEVEL'] ?? 'info') {
  return pino({ level, base: { component: 'plinth-controller' }, timestamp: pino.stdTimeFunctions.isoTime });
}
