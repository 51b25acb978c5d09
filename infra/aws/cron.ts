/**
 * Converts the stack config's five-field cron (the Unix form Cloud Scheduler and Kubernetes use) into an
 * EventBridge Scheduler `cron(...)` expression. Written by hand because no maintained library does this mapping, and
 * it is small: EventBridge wants six fields (a year), requires `?` in exactly one of day-of-month / day-of-week, and
 * numbers weekdays 1-7 from Sunday where Unix numbers them 0-7 (0 and 7 both Sunday).
 */

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** Unix weekday number (0-7) → EventBridge number (1-7, Sunday = 1). */
function eventBridgeDay(unix: number): number {
  return (unix % 7) + 1;
}

function convertDayOfWeek(field: string, expr: string): string {
  return field
    .split(',')
    .map((part) => {
      const upper = part.toUpperCase();
      if ((DAY_NAMES as readonly string[]).includes(upper)) return upper;
      const range = /^([A-Z]{3}|\d)-([A-Z]{3}|\d)$/.exec(upper);
      if (range) {
        const toNum = (s: string): number => (/^\d$/.test(s) ? Number(s) : DAY_NAMES.indexOf(s as (typeof DAY_NAMES)[number]));
        const from = toNum(range[1]!);
        const to = toNum(range[2]!);
        if (from < 0 || to < 0 || from > 7 || to > 7 || from > to) {
          throw new Error(`cron "${expr}": day-of-week range "${part}" is not valid`);
        }
        // Unix ranges may end on 7 (Sunday): expand into a list, which EventBridge accepts in any order.
        if (to === 7) return Array.from({ length: to - from + 1 }, (_, i) => eventBridgeDay(from + i)).join(',');
        return `${eventBridgeDay(from)}-${eventBridgeDay(to)}`;
      }
      if (/^\d$/.test(upper) && Number(upper) <= 7) return String(eventBridgeDay(Number(upper)));
      throw new Error(`cron "${expr}": day-of-week "${part}" is not supported (use 0-7, SUN-SAT, lists or ranges)`);
    })
    .join(',');
}

/** `0 2 * * *` → `cron(0 2 * * ? *)`. Throws, naming the expression, when it cannot be expressed exactly. */
export function toEventBridgeCron(expr: string): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(`cron "${expr}": expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  for (const [name, value] of [['minute', minute], ['hour', hour], ['day-of-month', dom], ['month', month]] as const) {
    if (!/^[\d*,/-]+$/.test(value)) throw new Error(`cron "${expr}": ${name} "${value}" is not supported`);
  }
  const domAny = dom === '*';
  const dowAny = dow === '*' || dow === '?';
  if (!domAny && !dowAny) {
    // Unix cron runs when EITHER field matches; EventBridge cannot express that, so refuse rather than change meaning.
    throw new Error(`cron "${expr}": restricting both day-of-month and day-of-week cannot be expressed on EventBridge`);
  }
  const ebDom = dowAny ? dom : '?';
  const ebDow = dowAny ? '?' : convertDayOfWeek(dow, expr);
  return `cron(${minute} ${hour} ${ebDom} ${month} ${ebDow} *)`;
}
