/**
 * Client-side encryption of payloads with age (X25519 recipients). The backup job needs only public keys;
 * restore and verify need an identity file. Placeholder signatures until issue 3 lands the implementation.
 */
import type { Duplex } from 'node:stream';
import { usageError } from '../errors';

export interface Encryptor {
  /** Plaintext in, age ciphertext out. */
  stream: Duplex;
  /** sha256 fingerprints of the recipients, for the manifest. */
  fingerprints: string[];
}

export async function createEncryptor(recipients: string[]): Promise<Encryptor> {
  void recipients;
  throw usageError('encryption_unavailable', 'encryption is not available yet');
}

/** Ciphertext in, plaintext out; fails (stream error) on a wrong identity or tampered/truncated input. */
export async function createDecryptor(identityText: string): Promise<Duplex> {
  void identityText;
  throw usageError('encryption_unavailable', 'encryption is not available yet');
}

/** A stable, non-secret fingerprint of a recipient (public key) string. */
export function recipientFingerprint(recipient: string): string {
  void recipient;
  throw usageError('encryption_unavailable', 'encryption is not available yet');
}
