// Writes schemas/experiment.schema.json from src/core/experiment/schema.ts (the typed key table
// and the defaults of config.ts). Run after changing a key:
//   node --import tsx scripts/write-experiment-schema.ts
// test/experiment-schema.test.ts fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentSchema } from '../src/core/experiment/schema.js';

export const SCHEMA_FILE = join(import.meta.dirname, '..', 'schemas', 'experiment.schema.json');

writeFileSync(SCHEMA_FILE, JSON.stringify(experimentSchema(), null, 2) + '\n');
console.log(`wrote ${SCHEMA_FILE}`);
