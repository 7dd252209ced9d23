// The retention schedule's arithmetic, the same on every engine: the interval as the task row's
// `cron_expr` (Honker's interval form) and the fire a tick makes of a due `next_fire_at`.
import { KnockerError } from "../errors.js";

/** The schedule as `cron_expr`: Honker's interval form. */
export function everyExpr(intervalS: number): string {
  return `@every ${intervalS}s`;
}

/** The interval of a task row's `cron_expr`; anything but "@every <seconds>s" is refused. */
export function intervalOf(cronExpr: string, task: string): number {
  const match = /^@every (\d+)s$/.exec(cronExpr);
  const seconds = match ? Number(match[1]) : 0;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new KnockerError(
      "ERR_INVALID_STATE",
      `scheduler task "${task}" has cron_expr ${JSON.stringify(cronExpr)}; knocker evaluates only "@every <seconds>s"`,
    );
  }
  return seconds;
}

/**
 * The first fire strictly after `now` on the grid `dueAt + k * intervalS`, and how many fires of
 * that grid (after `dueAt` itself) were missed. However long the downtime, the caller enqueues
 * one job: missed fires collapse into one run.
 */
export function nextFire(dueAt: number, intervalS: number, now: number): { fireAt: number; nextFireAt: number; missedFires: number } {
  const missedFires = Math.floor((now - dueAt) / intervalS);
  const fireAt = dueAt + missedFires * intervalS;
  return { fireAt, nextFireAt: fireAt + intervalS, missedFires };
}
