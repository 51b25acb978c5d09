/**
 * Plugin entry point of the TEST DOUBLE provider (see provider.ts): `pulumi-resource-<pkg>` wrappers written by
 * scripts/engine/plugins.ts run `node --import tsx main.ts <pkg> <engine address>`; it prints its port and serves.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '@pulumi/pulumi/provider';
import { createTestDoubleProvider, DOUBLED_PACKAGES, type DoubledPackage } from './provider';

// The Node.js provider server reads `req.getProperties().toJavaScript()` in Read, but an import's Read carries no
// properties, so it would crash before reaching the provider: answer an empty Struct instead.
const sdkDir = path.dirname(require.resolve('@pulumi/pulumi/package.json'));
const provproto = require(path.join(sdkDir, 'proto', 'provider_pb')) as { ReadRequest: { prototype: { getProperties(): unknown } } };
const structproto = require(require.resolve('google-protobuf/google/protobuf/struct_pb', { paths: [sdkDir] })) as { Struct: new () => unknown };
const getProperties = provproto.ReadRequest.prototype.getProperties;
provproto.ReadRequest.prototype.getProperties = function (this: unknown) {
  return getProperties.call(this) ?? new structproto.Struct();
};

const pkg = process.argv[2] as DoubledPackage;
if (!DOUBLED_PACKAGES.includes(pkg)) {
  console.error(`test-double provider: expected one of ${DOUBLED_PACKAGES.join(', ')} as the first argument, got ${pkg}`);
  process.exit(2);
}
const manifest = JSON.parse(
  readFileSync(path.join(path.dirname(require.resolve(`@pulumi/${pkg}/package.json`)), 'package.json'), 'utf8'),
) as { version: string };
void main(createTestDoubleProvider(pkg, manifest.version), process.argv.slice(3));
