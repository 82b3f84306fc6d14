import { describe, expect, it } from 'vitest';
import { exposedNames, promqlNames, unknownNames } from './metric-names.js';

describe('promqlNames', () => {
  it('keeps metric names and drops functions, label lists, matchers, ranges and keywords', () => {
    expect(
      promqlNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(backline_ingest_ack_seconds_bucket{code!~"a|b",x="y{z}"}[5m])))' +
          ' > 1 and on (job) backline_storage_spool_bytes offset 15m unless bool nodejs_eventloop_lag_p99_seconds',
      ),
    ).toEqual([
      'backline_ingest_ack_seconds_bucket',
      'backline_storage_spool_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]);
  });

  it('reads recorded names with colons, Grafana variables and `without` lists', () => {
    expect(
      promqlNames(
        'sum without (instance) (job:backline_frames:rate5m) / rate(x_total{job="$job"}[$__rate_interval]) * 1e3',
      ),
    ).toEqual(['job:backline_frames:rate5m', 'x_total']);
  });
});

describe('exposedNames and unknownNames', () => {
  const text = [
    '# HELP a_total A.',
    '# TYPE a_total counter',
    'a_total 1',
    '# TYPE b_seconds histogram',
    'b_seconds_bucket{le="+Inf"} 1',
    '# TYPE c gauge',
  ].join('\n');

  it('adds the series of histograms to the declared names', () => {
    expect([...exposedNames(text)].sort()).toEqual([
      'a_total',
      'b_seconds',
      'b_seconds_bucket',
      'b_seconds_count',
      'b_seconds_sum',
      'c',
    ]);
  });

  it('names what is neither exposed nor `up`', () => {
    const known = exposedNames(text);
    expect(unknownNames(['rate(a_total[5m]) + up', 'b_second_count + c'], known)).toEqual([
      'b_second_count',
    ]);
  });
});
