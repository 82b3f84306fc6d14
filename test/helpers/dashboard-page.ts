import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { cspViolations, pageErrors, poll, saveArtifact } from './browser.js';

const dayMs = 86_400_000;

/**
 * A dashboard page at `url` in a fresh tab, with the page errors and CSP violations it
 * reports: `clean()` asserts there were none and closes the tab.
 */
export async function openDashboard(browser: Browser, url: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  const errors = pageErrors(page);
  const violations = await cspViolations(page);
  await page.goto(url);
  const clean = async () => {
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    await page.close();
  };
  return { page, clean };
}

/**
 * Saves a screenshot under test/artifacts/, and with `BACKLINE_README_SCREENSHOT=1` also as
 * the README's picture `src/dashboard/<picture>`.
 */
export async function shoot(page: Page, picture: string): Promise<void> {
  await saveArtifact(page, `dashboard-${picture}`, false);
  const inReadme = new URL(`../../src/dashboard/${picture}`, import.meta.url);
  if (process.env.BACKLINE_README_SCREENSHOT === '1')
    await page.screenshot({ path: inReadme.pathname });
}

export const numberAttr = async (page: Page, selector: string, name: string) =>
  Number(await page.getAttribute(selector, name));

export const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

/** The attribute `name` of every element `selector` finds, in document order. */
export const attrs = (page: Page, selector: string, name: string) =>
  page
    .locator(selector)
    .evaluateAll(
      (els: Array<{ getAttribute(n: string): string | null }>, n: string) =>
        els.map((el) => el.getAttribute(n)),
      name,
    );

/** The range (`data-from`, `data-to`) a page section last answered for, once it spans `days`. */
export async function rangeOf(page: Page, section: string, days: number) {
  const read = async () => ({
    from: await numberAttr(page, section, 'data-from'),
    to: await numberAttr(page, section, 'data-to'),
  });
  await poll(async () => {
    const { from, to } = await read();
    return (to - from) / dayMs;
  }).toBe(days);
  return read();
}
