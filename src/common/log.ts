import { pino, type Logger } from 'pino';

/** One JSON line per event on stdout; `component` says which part of podfence wrote it. */
export function createLogger(component: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };
