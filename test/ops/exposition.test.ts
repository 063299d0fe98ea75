import { describe, expect, it } from 'vitest';
import { metrics, metricsText } from '../../src/ops/metrics.js';
import { parseExposition, samples } from '../support/prometheus.js';

describe('the /metrics text, as prometheus_client reads it', () => {
  it('GIVEN certificates with quotes, backslashes and newlines in their labels THEN each series reads back with its labels and the seconds left at the scrape', async () => {
    const now = 1_000_000_000_000;
    metrics.certificates([
      { owner: 'shell:alice', device: 'tab"let', serial: '0a:0b', notAfter: now + 90_500 },
      { owner: 'discord:12345', device: 'back\\slash\nnew', serial: '0c:0d', notAfter: now - 3_600_000 },
    ]);
    metrics.tailscalePaths([{ node: 'node-1', direct: true }, { node: 'node-2', direct: false }]);
    try {
      const all = parseExposition(await metricsText(now));
      const certs = samples(all, 'labgate_device_certificate_expiry_seconds');
      expect(certs.map((c) => [c.labels, c.value])).toEqual([
        [{ owner: 'shell:alice', device: 'tab"let', serial: '0a:0b' }, 91],
        [{ owner: 'discord:12345', device: 'back\\slash\nnew', serial: '0c:0d' }, -3600],
      ]);
      expect(certs[0]!.type).toBe('gauge');
      expect(samples(all, 'labgate_tailscale_path_direct').map((s) => [s.labels.node, s.value])).toEqual([['node-1', 1], ['node-2', 0]]);
    } finally {
      metrics.certificates([]);
      metrics.tailscalePaths([]);
    }
  });

  it('GIVEN no certificate yet THEN the family is still declared, with no series', async () => {
    const text = await metricsText();
    expect(text).toContain('# TYPE labgate_device_certificate_expiry_seconds gauge\n');
    expect(samples(parseExposition(text), 'labgate_device_certificate_expiry_seconds')).toEqual([]);
  });
});
