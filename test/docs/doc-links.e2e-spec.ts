import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The documents travel with the repository: every relative link of every Markdown file of the repository
 * (README.md, docs/, bench/, test/, CHANGELOG.md, ...) must name a file (and, with a #fragment into a
 * Markdown file, a heading) inside the repository, so that a clone alone is enough to follow them.
 */
const ROOT = resolve(__dirname, '..', '..');
/** What is not the repository's own text: installed packages, builds, data and test output. */
const SKIP = new Set(['node_modules', 'dist', 'coverage', '.git', '.data', 'test-output']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name))
    .flatMap((e) =>
      e.isDirectory()
        ? markdownFiles(join(dir, e.name))
        : e.name.endsWith('.md')
          ? [relative(ROOT, join(dir, e.name)).split(sep).join('/')]
          : [],
    )
    .sort();
}

const DOCS = markdownFiles(ROOT);

/** The text outside fenced code blocks and inline code spans, with its line breaks kept. */
function prose(markdown: string): string {
  return markdown
    .replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''))
    .replace(/`[^`\n]*`/g, '');
}

function links(markdown: string): { target: string; line: number }[] {
  const text = prose(markdown);
  const found: { target: string; line: number }[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ target: m[1], line: lineOf(m.index) });
  }
  for (const m of text.matchAll(/^[ \t]*\[[^\]]+]:[ \t]*<?(\S+?)>?(?:[ \t]+"[^"]*")?[ \t]*$/gm)) {
    found.push({ target: m[1], line: lineOf(m.index) });
  }
  return found;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n ? `${base}-${n}` : base);
  }
  return result;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

describe('links in every Markdown file of the repository', () => {
  it('finds the documents', () => {
    expect(DOCS).toEqual(
      expect.arrayContaining([
        'README.md',
        'CHANGELOG.md',
        'docs/API.md',
        'docs/walkthrough.md',
        'bench/README.md',
        'test/README.md',
      ]),
    );
  });

  it.each(DOCS)('every relative link of %s names a file of the repository', (doc) => {
    const file = join(ROOT, doc);
    const markdown = readFileSync(file, 'utf8');
    const broken: string[] = [];
    for (const { target, line } of links(markdown).filter((l) => !isExternal(l.target))) {
      const [path, fragment] = target.split('#', 2);
      const resolved = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      const where = `${doc}:${line} → ${target}`;
      if (!resolved.startsWith(ROOT + sep)) broken.push(`${where}: outside the repository`);
      else if (!existsSync(resolved)) broken.push(`${where}: no such file (${relative(ROOT, resolved)})`);
      else if (
        fragment &&
        statSync(resolved).isFile() &&
        resolved.endsWith('.md') &&
        !anchors(readFileSync(resolved, 'utf8')).has(fragment)
      ) {
        broken.push(`${where}: no heading #${fragment}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('leads from the README to the contract, docs/API.md', () => {
    expect(links(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.target)).toContain('docs/API.md');
  });

  it('reads links, headings and code the way GitHub renders them', () => {
    const md = [
      '# Tests',
      '## 5. Configuration (environment variables)',
      '## Tests',
      'See [the API](docs/API.md#5-configuration), [ref][r] and `[not](a-link.md)`.',
      '```bash',
      'echo "[nor](this.md)"',
      '```',
      '[r]: ../outside.md "title"',
    ].join('\n');
    expect(links(md)).toEqual([
      { target: 'docs/API.md#5-configuration', line: 4 },
      { target: '../outside.md', line: 8 },
    ]);
    expect([...anchors(md)]).toEqual(['tests', '5-configuration-environment-variables', 'tests-1']);
  });
});
