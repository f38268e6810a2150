// Runs @apidevtools/swagger-parser outside Jest: its dependency json-schema-ref-parser is an ES
// module, which Jest's CommonJS runtime cannot load (plain Node 20.19+ can). Prints "valid" or
// the validator's message and exits non-zero.
import SwaggerParser from '@apidevtools/swagger-parser';

try {
  const api = await SwaggerParser.validate(process.argv[2]);
  process.stdout.write(`valid ${api.openapi} ${Object.keys(api.paths).length} paths\n`);
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
