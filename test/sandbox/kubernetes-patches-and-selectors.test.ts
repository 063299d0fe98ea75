import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../sandbox/kubernetes/api-status.js';
import { applyJsonPatch, applyMergePatch, JsonPatchError } from '../../sandbox/kubernetes/json-patches.js';
import type { KubeObject } from '../../sandbox/kubernetes/kubernetes-state.js';
import { parseFieldSelector, parseLabelSelector } from '../../sandbox/kubernetes/selectors.js';

const obj = (name: string, labels?: Record<string, string>, namespace = 'media'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  spec: { nodeName: 'node-21' },
});

describe('label selectors', () => {
  const a = obj('a', { 'app.kubernetes.io/name': 'traefik', tier: 'edge' });
  const b = obj('b', { 'app.kubernetes.io/name': 'immich' });
  const c = obj('c');

  it.each([
    ['', ['a', 'b', 'c']],
    ['app.kubernetes.io/name=traefik', ['a']],
    ['app.kubernetes.io/name == immich', ['b']],
    ['app.kubernetes.io/name!=traefik', ['b', 'c']],
    ['tier', ['a']],
    ['!tier', ['b', 'c']],
    ['app.kubernetes.io/name,!tier', ['b']],
    ['app.kubernetes.io/name in (immich, jellyfin)', ['b']],
    ['app.kubernetes.io/name notin (immich)', ['a', 'c']],
  ])('%j matches %j', (selector, expected) => {
    const matches = parseLabelSelector(selector);
    expect([a, b, c].filter(matches).map((o) => o.metadata.name)).toEqual(expected);
  });

  it('refuses what it cannot parse with a 400', () => {
    expect(() => parseLabelSelector('a=b=c')).toThrow(KubeApiError);
    expect(() => parseLabelSelector('a in b')).toThrow(expect.objectContaining({ code: 400 }));
  });
});

describe('field selectors', () => {
  it('matches metadata.name, metadata.namespace and kind-specific fields', () => {
    const objs = [obj('a'), obj('b', undefined, 'auth')];
    expect(objs.filter(parseFieldSelector('metadata.namespace=auth', 'Pod')).map((o) => o.metadata.name)).toEqual(['b']);
    expect(objs.filter(parseFieldSelector('metadata.name!=a,spec.nodeName=node-21', 'Pod')).map((o) => o.metadata.name)).toEqual(['b']);
  });

  it('refuses a field the kind cannot be selected by', () => {
    expect(() => parseFieldSelector('spec.nodeName=x', 'Secret')).toThrow(/field label not supported: spec.nodeName/);
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, replaces arrays and deletes on null', () => {
    const target = { a: { b: 1, c: [1, 2] }, d: 'keep', e: 'drop' };
    expect(applyMergePatch(target, { a: { c: [3] }, e: null, f: { g: true } })).toEqual({ a: { b: 1, c: [3] }, d: 'keep', f: { g: true } });
    expect(target.e).toBe('drop');
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { spec: { routes: [{ match: 'a' }, { match: 'b' }] }, metadata: { labels: { 'a/b': 'x' } } };

  it('applies add, remove, replace, move, copy and test in order without touching the input', () => {
    const out = applyJsonPatch(doc, [
      { op: 'test', path: '/spec/routes/0/match', value: 'a' },
      { op: 'add', path: '/spec/routes/-', value: { match: 'c' } },
      { op: 'remove', path: '/spec/routes/0' },
      { op: 'replace', path: '/metadata/labels/a~1b', value: 'y' },
      { op: 'copy', from: '/spec/routes/0', path: '/spec/first' },
      { op: 'move', from: '/spec/first', path: '/spec/moved' },
    ]);
    expect(out).toEqual({ spec: { routes: [{ match: 'b' }, { match: 'c' }], moved: { match: 'b' } }, metadata: { labels: { 'a/b': 'y' } } });
    expect(doc.spec.routes).toHaveLength(2);
  });

  it('fails a test op, a missing path, and a malformed patch distinctly', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/routes/0/match', value: 'z' }])).toThrow(JsonPatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/nothing', value: 1 }])).toThrow(/missing/);
    try {
      applyJsonPatch(doc, { op: 'add' });
    } catch (e) {
      expect((e as JsonPatchError).malformed).toBe(true);
    }
    expect.assertions(3);
  });
});
