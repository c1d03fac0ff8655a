import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README is for a newcomer: what the service is, the two commands, the first admin, the pages,
 * configuration, the surfaces, tests and deployment. The rest lives in docs/, bench/ and test/, linked
 * from it, so that the README stays readable in one sitting.
 */
const README = join(__dirname, '..', '..', 'README.md');
const LIMIT = 30 * 1024;

describe('README.md', () => {
  it(`is at most 30 KB (${LIMIT} bytes)`, () => {
    expect(statSync(README).size).toBeLessThanOrEqual(LIMIT);
  });
});
