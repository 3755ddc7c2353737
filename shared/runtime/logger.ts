/** pino, with every credential-bearing field redacted as a second line of defence. */
import pino, { type Logger } from 'pino';

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'key', '*.key', 'apiToken', '*.apiToken', 'token'],
      censor: '[redacted]',
    },
  });
}
