/** librbd's progress of a long operation (flatten, rollback, trash removal), logged at debug. */
import type { Logger } from 'pino';

export function logProgress(log: Logger, op: string, target: string): (done: number, total: number) => void {
  return (done, total) => log.debug({ op, target, done, total, percent: total > 0 ? Math.floor((100 * done) / total) : 100 }, `${op} ${target}: ${done}/${total}`);
}
