import { pino, type DestinationStream } from 'pino';

/**
 * Structured JSON logs, one object per line, on stdout unless told otherwise. They read as log
 * collectors read Go operators': the level by name ("level":"info"), and an error under `err`
 * with its type, message and stack.
 */
export function createLogger(
  component: string,
  { level = process.env['LOG_LEVEL'] ?? 'info', destination }: { level?: string; destination?: DestinationStream } = {},
) {
  return pino(
    {
      level,
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
