/**
 * Where a placeholder sits in an HTML template decides how its value is escaped: element
 * text and quoted attribute values take entity escaping; unquoted attribute values take
 * every non-alphanumeric as a character reference (OWASP XSS rule #2); URL attributes also
 * get a scheme check. Places where no escaping is safe (script and style bodies, comments,
 * event handler and style attributes, attribute names) are refused when a template is saved.
 */
export type HtmlContext =
  | { kind: 'text' }
  | { kind: 'attr'; name: string; quoted: boolean; atValueStart: boolean }
  | { kind: 'refused'; why: string };

/** Stands for a placeholder while the template is scanned; templates may not contain it. */
export const slot = '\u0000';

const rawTextElements = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes']);

type State = 'text' | 'tag' | 'name' | 'afterName' | 'value' | 'quoted' | 'unquoted';

interface Scan {
  html: string;
  i: number;
  state: State;
  tag: string;
  attr: string;
  quote: string;
  valueStart: number;
  contexts: HtmlContext[];
}

/**
 * The context of every `slot` in `skeleton`, in order: a small HTML tokenizer (HTML Living
 * Standard §13.2.5, reduced to tags, attributes, comments and raw-text elements).
 */
export function slotContexts(skeleton: string): HtmlContext[] {
  const scan: Scan = {
    html: skeleton,
    i: 0,
    state: 'text',
    tag: '',
    attr: '',
    quote: '',
    valueStart: 0,
    contexts: [],
  };
  // Each step consumes at least one character or changes state without consuming.
  while (scan.i < skeleton.length) steps[scan.state](scan, skeleton[scan.i]!);
  return scan.contexts;
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

function refuse(scan: Scan, why: string): void {
  scan.contexts.push({ kind: 'refused', why });
}

/** Jumps to `end` (exclusive), refusing any slot on the way. */
function skipTo(scan: Scan, end: number, why: string): void {
  const stop = end < 0 ? scan.html.length : end;
  for (let j = scan.i; j < stop; j++) if (scan.html[j] === slot) refuse(scan, why);
  scan.i = stop;
}

function attrValueSlot(scan: Scan, quoted: boolean): void {
  const name = scan.attr.toLowerCase();
  if (name.startsWith('on')) return refuse(scan, `in the event handler attribute ${scan.attr}`);
  if (name === 'style') return refuse(scan, 'in a style attribute');
  const atValueStart = scan.html.slice(scan.valueStart, scan.i).trim() === '';
  scan.contexts.push({ kind: 'attr', name, quoted, atValueStart });
}

const steps: Record<State, (scan: Scan, c: string) => void> = {
  text(scan, c) {
    const { html, i } = scan;
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      return skipTo(scan, end < 0 ? -1 : end + 3, 'in an HTML comment');
    }
    const open = c === '<' && /^<\/?[a-zA-Z][\w:-]*/.exec(html.slice(i, i + 64));
    if (open) {
      // An end tag opens no raw text: only `<script>` does, not `</script>`.
      scan.tag = open[0][1] === '/' ? '' : open[0].slice(1).toLowerCase();
      scan.state = 'tag';
      scan.i += open[0].length;
      return;
    }
    if (c === slot) scan.contexts.push({ kind: 'text' });
    scan.i += 1;
  },
  tag(scan, c) {
    scan.i += 1;
    if (c === '>') {
      scan.state = 'text';
      const selfClosing = scan.html[scan.i - 2] === '/';
      if (rawTextElements.has(scan.tag) && !selfClosing) {
        const close = scan.html.toLowerCase().indexOf(`</${scan.tag}`, scan.i);
        skipTo(scan, close, `inside <${scan.tag}>`);
      }
    } else if (c === slot) refuse(scan, 'in a tag, outside an attribute value');
    else if (c !== '/' && !isSpace(c)) {
      scan.state = 'name';
      scan.attr = c;
    }
  },
  name(scan, c) {
    if (c === '>' || c === '/') return void (scan.state = 'tag');
    scan.i += 1;
    if (c === '=') scan.state = 'value';
    else if (isSpace(c)) scan.state = 'afterName';
    else if (c === slot) refuse(scan, 'in an attribute name');
    else scan.attr += c;
  },
  afterName(scan, c) {
    if (c === '=') scan.state = 'value';
    else if (!isSpace(c)) return void (scan.state = 'tag');
    scan.i += 1;
  },
  value(scan, c) {
    if (isSpace(c)) return void (scan.i += 1);
    if (c === '"' || c === "'") {
      scan.quote = c;
      scan.state = 'quoted';
      scan.i += 1;
    } else scan.state = 'unquoted';
    scan.valueStart = scan.i;
  },
  quoted(scan, c) {
    if (c === scan.quote) scan.state = 'tag';
    else if (c === slot) attrValueSlot(scan, true);
    scan.i += 1;
  },
  unquoted(scan, c) {
    if (isSpace(c) || c === '>') return void (scan.state = 'tag');
    if (c === slot) attrValueSlot(scan, false);
    scan.i += 1;
  },
};
