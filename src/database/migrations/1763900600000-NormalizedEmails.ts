import { Logger } from '@nestjs/common';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { hasInvisibleCharacters, normalizeEmail } from '../../common/identifiers';

/**
 * Emails become unique after Unicode NFKC normalisation, trimmed and case-insensitive (API.md section 0).
 * Every stored address is folded to the normalised form of common/identifiers, the function that every
 * lookup and write uses from now on, and the unique index moves from lower(email) to the stored value.
 *
 * Two accounts whose addresses fold to the same form (`doc1@…` and a fullwidth `ｄoc1@…`, made before
 * this check existed) are both left exactly as they are: merging them, or choosing which one keeps the
 * address, is a decision about people's accounts that a migration must not take. The log names them by
 * id, never by address (the log is not the place for personal data, and the ids are enough to find them
 * in the database). Until an operator resolves it, the address as typed reaches only an account that
 * already holds its normalised form. Addresses holding invisible characters are folded like any other
 * and named in the log too: no surface accepts such an address any more, so those accounts cannot sign
 * in by email until their address is corrected.
 */
export class NormalizedEmails1763900600000 implements MigrationInterface {
  name = 'NormalizedEmails1763900600000';

  /** Where the findings go; replaced in tests. */
  static report: (message: string) => void = (message) => new Logger('Migrations').warn(message);

  async up(q: QueryRunner): Promise<void> {
    // Printable ASCII without capitals or edge spaces is its own normalised form: only the rest is read.
    const candidates = (await q.query(
      `SELECT id, email FROM users WHERE email ~ '[^ -~]' OR email ~ '[A-Z]' OR email LIKE ' %' OR email LIKE '% '
        ORDER BY created_at, id`,
    )) as { id: string; email: string }[];
    const changes = new Map<string, string[]>();
    const invisible: string[] = [];
    for (const row of candidates) {
      if (hasInvisibleCharacters(row.email)) invisible.push(row.id);
      const folded = normalizeEmail(row.email);
      if (folded === row.email) continue;
      changes.set(folded, [...(changes.get(folded) ?? []), row.id]);
    }
    // An address already in normalised form holds its place; a change that would meet it collides too.
    const holders = changes.size
      ? ((await q.query(`SELECT id, email FROM users WHERE email = ANY($1::text[])`, [[...changes.keys()]])) as {
          id: string;
          email: string;
        }[])
      : [];
    for (const h of holders) changes.set(h.email, [h.id, ...changes.get(h.email)!]);

    const ids: string[] = [];
    const emails: string[] = [];
    const collisions: string[][] = [];
    for (const [folded, group] of changes) {
      if (group.length > 1) collisions.push(group);
      else {
        ids.push(group[0]);
        emails.push(folded);
      }
    }
    await q.query(`DROP INDEX users_email_lower_key`);
    if (ids.length) {
      await q.query(
        `UPDATE users u SET email = v.email FROM unnest($1::uuid[], $2::text[]) AS v(id, email) WHERE u.id = v.id`,
        [ids, emails],
      );
    }
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);

    const { report } = NormalizedEmails1763900600000;
    if (ids.length) report(`normalised the email address of ${ids.length} account(s)`);
    for (const group of collisions) {
      report(
        `accounts ${group.join(', ')} have email addresses that are the same once normalised; both left ` +
          `unchanged, resolve by hand (change or remove one of the addresses)`,
      );
    }
    if (invisible.length) {
      report(
        `accounts ${invisible.join(', ')} have email addresses with invisible or formatting characters, ` +
          `which no sign-in accepts any more; correct their addresses`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    // The folding itself cannot be undone (the original spelling is gone); the index can.
    await q.query(`DROP INDEX users_email_key`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);
  }
}
