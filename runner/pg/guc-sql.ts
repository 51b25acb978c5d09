/**
 * `ALTER ROLE/DATABASE ... SET` statements from the catalog's `name=value` entries (pg_db_role_setting.setconfig),
 * written as pg_dump's makeAlterConfigCommand writes them. By hand because no library does it, and the catalog
 * text cannot go back verbatim: a list-valued setting (search_path) must become one literal per element, or
 * `'a, b'` would become the single schema name "a, b".
 */
import { quoteIdent } from './connection';

/** Settings whose value is a list of quoted elements (pg_dump's variable_is_guc_list_quote). */
const LIST_QUOTED = new Set(['local_preload_libraries', 'search_path', 'session_preload_libraries', 'shared_preload_libraries', 'temp_tablespaces', 'unix_socket_directories']);

export function quoteLiteral(text: string): string {
  // standard_conforming_strings is on in every supported server: only quotes need doubling; a backslash then
  // needs the E'' form, as pg's escapeLiteral does.
  const hasBackslash = text.includes('\\');
  const body = text.replace(/'/g, "''").replace(/\\/g, '\\\\');
  return `${hasBackslash ? ' E' : ''}'${body}'`.trimStart();
}

/** Splits a list setting's text as the server does (SplitGUCList): commas outside double quotes, quotes removed. */
export function splitGucList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const s = value;
  const skipSpace = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  skipSpace();
  if (i >= s.length) return out;
  for (;;) {
    let item = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return [...out, item];
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            item += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        item += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== ',' && !/\s/.test(s[i]!)) item += s[i++];
    }
    out.push(item);
    skipSpace();
    if (i >= s.length || s[i] !== ',') return out;
    i++;
    skipSpace();
  }
}

/** `name=value` → `SET name TO value` (the part after `ALTER ROLE x [IN DATABASE y]`). */
export function setClause(entry: string): string {
  const eq = entry.indexOf('=');
  const name = eq < 0 ? entry : entry.slice(0, eq);
  const value = eq < 0 ? '' : entry.slice(eq + 1);
  const lower = name.toLowerCase();
  // Names are identifiers (custom ones have a dot: app.tenant); quoted when they need it.
  const ident = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)*$/.test(lower) ? lower : quoteIdent(name);
  if (LIST_QUOTED.has(lower)) {
    const items = splitGucList(value);
    return `SET ${ident} TO ${items.length ? items.map(quoteLiteral).join(', ') : "''"}`;
  }
  return `SET ${ident} TO ${quoteLiteral(value)}`;
}
