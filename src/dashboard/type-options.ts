/**
 * Fills an event type picker: `first` (fixed choices such as `any event`), then the project's
 * types. The choice made stays when it is still there; else the option `pick` names (an index
 * into the whole list), else the first.
 */
export function fillTypes(
  select: HTMLSelectElement,
  types: readonly string[],
  first: ReadonlyArray<[value: string, label: string]> = [],
  pick = 0,
): void {
  const chosen = select.value;
  const options = [...first, ...types.map((t): [string, string] => [t, t])];
  const kept = options.some(([value]) => value === chosen) && select.options.length > 0;
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  const index = kept ? options.findIndex(([value]) => value === chosen) : pick;
  select.selectedIndex = Math.min(index, options.length - 1);
}
