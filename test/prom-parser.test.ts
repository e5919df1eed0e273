/** The test parser of the Prometheus text format, on the format description's own example and on what it must refuse. */
import { describe, expect, it } from 'vitest';
import { parseMetrics, sampleValue } from './support/prom.js';

// The example of prometheus.io's "Exposition formats" page (text format), with a labelled histogram added.
const EXAMPLE = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
# HELP msdos_file_access_time_seconds x
# TYPE msdos_file_access_time_seconds gauge
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# HELP h A labelled histogram.
# TYPE h histogram
h_bucket{le="1",a="x"} 1
h_bucket{le="+Inf",a="x"} 2
h_sum{a="x"} 3.5
h_count{a="x"} 2
h_bucket{a="y",le="1"} 0
h_bucket{a="y",le="+Inf"} 0
h_sum{a="y"} 0
h_count{a="y"} 0
`;

describe('parseMetrics (test support)', () => {
  it('reads the format description example: values, escapes, histograms by label set', () => {
    const m = parseMetrics(EXAMPLE);
    expect(sampleValue(m, 'http_requests_total', { code: '400' })).toBe(3);
    expect(m.get('msdos_file_access_time_seconds')?.samples[0]?.labels).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
    expect(sampleValue(m, 'http_request_duration_seconds_count')).toBe(144320);
    expect(sampleValue(m, 'h_sum', { a: 'x' })).toBe(3.5);
    expect(sampleValue(m, 'h_count', { a: 'y' })).toBe(0);
  });

  it('refuses what the format does not allow or a scraper would reject', () => {
    const bad = [
      'x 1',
      '# HELP x a\n# TYPE x gauge\nx{a="1"} 1\n# HELP y b\n# TYPE y gauge\ny 1\nx{a="2"} 2',
      '# HELP x a\n# TYPE x gauge\nx 1\nx 2',
      '# HELP x a\n# TYPE x gauge\n# TYPE x counter\nx 1',
      '# HELP x a\n# TYPE x gauge\nx{a="1} 1',
      '# HELP x a\n# TYPE x gauge\nx{a="\\t"} 1',
      '# HELP x a\n# TYPE x gauge\nx one',
      '# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1',
      '# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3',
    ];
    for (const text of bad) expect(() => parseMetrics(text), text).toThrow();
  });
});
