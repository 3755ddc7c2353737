/**
 * Every relative link and #anchor in README.md and docs/*.md leads somewhere:
 * the file exists and, for a Markdown target, the anchor is one of its
 * headings as GitHub slugs them.
 */
import fs from 'node:fs';
import path from 'node:path';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

const root = path.resolve(__dirname, '../..');
const docsDir = path.join(root, 'docs');
const pages = ['README.md', ...fs.readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

const markdown = new MarkdownIt({ html: true });

interface Parsed {
  anchors: Set<string>;
  links: string[];
}

/** The anchors GitHub gives the headings (repeats get -1, -2, ...) and every link's href. */
function parse(source: string): Parsed {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  const links: string[] = [];
  const tokens = markdown.parse(source, {});
  tokens.forEach((token, i) => {
    const inline = token.type === 'inline' ? token.children ?? [] : [];
    for (const child of inline) {
      if (child.type === 'link_open') links.push(String(child.attrGet('href') ?? ''));
    }
    if (token.type === 'heading_open') {
      // GitHub slugs the heading's rendered text: code spans without their backticks.
      const text = (tokens[i + 1]?.children ?? [])
        .filter((c) => c.type === 'text' || c.type === 'code_inline')
        .map((c) => c.content)
        .join('');
      anchors.add(slugger.slug(text));
    }
  });
  return { anchors, links };
}

/** Links from `file` (relative to the repository) that lead nowhere, each with why. */
function brokenLinks(file: string, source: string, read: (file: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const href of parse(source).links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // http:, https:, mailto: are not ours to check
    const [target = '', anchor] = href.split('#', 2);
    const targetFile = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(target)));
    const text = read(targetFile);
    if (text === undefined) {
      broken.push(`${href}: ${targetFile} does not exist`);
    } else if (anchor !== undefined && targetFile.endsWith('.md') && !parse(text).anchors.has(decodeURIComponent(anchor))) {
      broken.push(`${href}: ${targetFile} has no heading #${anchor}`);
    }
  }
  return broken;
}

/** A file's text, '' for a directory, undefined when there is none. */
function readFromRepository(file: string): string | undefined {
  const full = path.join(root, file);
  if (!full.startsWith(root) || !fs.existsSync(full)) return undefined;
  return fs.statSync(full).isDirectory() ? '' : fs.readFileSync(full, 'utf8');
}

test.each(pages)('every relative link and anchor in %s resolves', (page) => {
  expect(brokenLinks(page, readFromRepository(page)!, readFromRepository)).toEqual([]);
});

test('the README links every page of docs/', () => {
  const linked = new Set(parse(readFromRepository('README.md')!).links.map((href) => href.split('#')[0]));
  expect(pages.filter((p) => p !== 'README.md' && !linked.has(p))).toEqual([]);
});

test('the check reports a missing file, a missing anchor, and takes GitHub slugs', () => {
  const files: Record<string, string> = {
    'docs/a.md': [
      '# Title',
      '## `RBD_POOLS`, and (more): here',
      '## Repeat',
      '## Repeat',
      '```sh',
      '# a comment, not a heading',
      '```',
      '[ok](#rbd_pools-and-more-here) [ok](#repeat-1) [ok](b.md#b) [ok](../README.md) [ok](https://example.com/#x)',
      '[bad](#repeat-2) [bad](#a-comment-not-a-heading) [bad](c.md) [bad](b.md#title)',
    ].join('\n'),
    'docs/b.md': '# B\n',
    'README.md': '# R\n',
  };
  expect(brokenLinks('docs/a.md', files['docs/a.md']!, (f) => files[f])).toEqual([
    '#repeat-2: docs/a.md has no heading #repeat-2',
    '#a-comment-not-a-heading: docs/a.md has no heading #a-comment-not-a-heading',
    'c.md: docs/c.md does not exist',
    'b.md#title: docs/b.md has no heading #title',
  ]);
});
