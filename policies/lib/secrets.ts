/**
 * Plaintext secret detection for job environments. A secret placed as a literal env value is readable by anyone
 * who can view the job definition and lands in Pulumi state; it must come by reference (Secret Manager, Secrets
 * Manager, a Kubernetes Secret). Name heuristics follow the usual suspects; value heuristics catch credentials
 * hidden behind innocent names (a URL with a password, a private key, an age identity, an AWS access key id).
 */

const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AGE_IDENTITY|DSN|DATABASE_URL|REDIS_URL|CONNECTION_STRING)/i;
/** Names that point at a secret rather than hold it. */
const REFERENCE_SUFFIX = /(_NAME|_ID|_ARN|_REF|_PATH|_FILE|_VERSION|_PROJECT)$/i;

const SECRET_VALUES: RegExp[] = [
  /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^@\s/]+@/i, // scheme://user:password@host
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /AGE-SECRET-KEY-1[0-9A-Z]+/,
  /\bAKIA[0-9A-Z]{16}\b/,
];

export function looksLikeSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !REFERENCE_SUFFIX.test(name);
}

export function looksLikeSecretValue(value: string): boolean {
  return SECRET_VALUES.some((re) => re.test(value));
}

/** Why a literal env entry is a plaintext secret, or undefined when it is not. */
export function plaintextSecretReason(name: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (looksLikeSecretValue(value)) return `env ${name} holds a credential in plain text`;
  if (looksLikeSecretName(name)) return `env ${name} looks like a secret but is set as a literal value`;
  return undefined;
}
