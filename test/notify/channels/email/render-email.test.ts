import { describe, expect, it } from 'vitest';
import {
  renderEmail,
  unsafePlaceholder,
} from '../../../../src/notify/channels/email/render-email.js';

const hostile = `<script>alert(1)</script>"'&`;

describe('renderEmail', () => {
  it('escapes a hostile variable in HTML text and attributes, keeps it raw in the text part', () => {
    const out = renderEmail(
      {
        subject: 'Hi {{name}}',
        html: '<p title="{{name}}" class=\'{{name}}\' data-x={{name}}>{{name}}</p>',
        text: 'Hi {{name}}',
      },
      undefined,
      { name: hostile },
    );
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';
    expect(out.html).toBe(
      `<p title="${escaped}" class='${escaped}' data-x=` +
        '&#x3c;script&#x3e;alert&#x28;1&#x29;&#x3c;&#x2f;script&#x3e;&#x22;&#x27;&#x26;' +
        `>${escaped}</p>`,
    );
    expect(out.html).not.toContain('<script>');
    expect(out.text).toBe(`Hi ${hostile}`);
    expect(out.subject).toBe(`Hi ${hostile}`);
  });

  it('drops line breaks from the subject, so a value cannot add a header', () => {
    const out = renderEmail({ subject: 'Hi {{name}}', html: '<p>x</p>', text: 'x' }, undefined, {
      name: 'Ada\r\nBcc: all@example.com',
    });
    expect(out.subject).toBe('Hi Ada Bcc: all@example.com');
  });

  it('keeps code-running URLs out of href and src, and leaves web links alone', () => {
    const html = '<a href="{{link}}">go</a><img src={{link}}><a href="{{web}}">web</a>';
    const out = renderEmail({ subject: 's', html, text: 't' }, undefined, {
      link: ' JaVa\tScript:alert(1)',
      web: 'https://example.com/?a=1&b=2',
    });
    expect(out.html).toBe(
      '<a href="#unsafe-url">go</a><img src=&#x23;unsafe&#x2d;url>' +
        '<a href="https://example.com/?a=1&amp;b=2">web</a>',
    );
  });

  it('renders the layout around the template, and never re-reads a value as a placeholder', () => {
    const out = renderEmail(
      { subject: 's', html: '<p>{{name}}</p>', text: 'Hello {{name}}' },
      {
        html: '<body><h1>{{brand}}</h1>{{{content}}}<footer>{{brand}}</footer></body>',
        text: '{{brand}}\n{{{content}}}\n-- {{brand}}',
      },
      { name: '{{secret}} {{{content}}}', brand: 'B&B', secret: 'leaked' },
    );
    expect(out.html).toBe(
      '<body><h1>B&amp;B</h1><p>{{secret}} {{{content}}}</p><footer>B&amp;B</footer></body>',
    );
    expect(out.text).toBe('B&B\nHello {{secret}} {{{content}}}\n-- B&B');
  });

  it('reads dotted paths and renders missing values as empty', () => {
    const out = renderEmail(
      { subject: '{{show.name}} at {{show.venue.city}}{{nope.x}}', html: '<p></p>', text: 't' },
      undefined,
      { show: { name: 'Gig', venue: { city: 'Oslo' } } },
    );
    expect(out.subject).toBe('Gig at Oslo');
  });

  it('refuses placeholders where no escaping is safe', () => {
    expect(unsafePlaceholder('<p onclick="go({{x}})">')).toMatch(/event handler/);
    expect(unsafePlaceholder('<script>var a = "{{x}}";</script>')).toMatch(/inside <script>/);
    expect(unsafePlaceholder('<p style="color: {{x}}">')).toMatch(/style attribute/);
    expect(unsafePlaceholder('<p {{x}}>')).toMatch(/outside an attribute value/);
    expect(unsafePlaceholder('<!-- {{x}} -->')).toMatch(/comment/);
    expect(unsafePlaceholder('<style>p{}</style><p title="{{x}}">{{x}}</p>')).toBeUndefined();
  });
});
