/**
 * Every relative link in the README, docs/ and the examples' READMEs points at a file that exists (links that
 * drifted: the README's link to the server example, a missing docs/server.md). Links are read with markdown-it,
 * so code spans and blocks are not mistaken for links; web addresses are not fetched (the machine is offline).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';

const root = path.resolve(__dirname, '..', '..');
const md = new MarkdownIt();

function markdownFiles(): string[] {
  const files = ['README.md'];
  for (const dir of ['docs', 'examples']) {
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
        const rel = path.join(d, e.name);
        if (e.isDirectory() && e.name !== 'node_modules') walk(rel);
        else if (e.name.endsWith('.md')) files.push(rel);
      }
    };
    if (fs.existsSync(path.join(root, dir))) walk(dir);
  }
  return files;
}

/** Relative link targets of one markdown file (no scheme, no pure #anchor), with the anchor cut off. */
function relativeLinks(file: string): string[] {
  const out: string[] = [];
  const visit = (tokens: ReturnType<typeof md.parse>): void => {
    for (const t of tokens) {
      if (t.children) visit(t.children);
      const target = t.type === 'link_open' ? t.attrGet('href') : t.type === 'image' ? t.attrGet('src') : null;
      if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      out.push(decodeURI(target.split('#')[0]));
    }
  };
  visit(md.parse(fs.readFileSync(path.join(root, file), 'utf8'), {}));
  return out;
}

function brokenLinks(file: string): string[] {
  return relativeLinks(file).filter((target) => !fs.existsSync(path.resolve(root, path.dirname(file), target)));
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the documents', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', path.join('docs', 'native.md')]));
  });

  test.each(files)('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it('the check fails on a broken link and ignores code and web addresses', () => {
    const planted = path.join('test', 'fixtures', 'docs-links', 'broken.md');
    expect(relativeLinks(planted)).toEqual(['../../repo/docs-links.test.ts', 'no-such-file.md']);
    expect(brokenLinks(planted)).toEqual(['no-such-file.md']);
  });
});
