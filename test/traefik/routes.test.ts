import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kubernetes/port.js';
import { hostsOf, routeServesHost } from '../../src/traefik/routes.js';

const route = (match: string, kind = 'IngressRoute'): KubeObject => ({
  apiVersion: 'traefik.io/v1alpha1',
  kind,
  metadata: { name: 'r', namespace: 'n' },
  spec: { routes: [{ kind: 'Rule', match, services: [{ name: 's', port: 80 }] }] },
});

const HOST = 'photos.home.example.com';

describe('which hosts a Traefik route serves, read as Traefik reads its rule', () => {
  it('reads backtick and double-quoted values (Go string literals), several per matcher and per rule', () => {
    expect(hostsOf(route('Host(`Photos.home.example.com`)'))).toEqual([HOST]);
    expect(hostsOf(route('Host("photos.home.example.com")'))).toEqual([HOST]);
    expect(hostsOf(route('Host(`a.example.com`, "b.example.com") || (Host(`c.example.com`) && PathPrefix(`/x`))'))).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    // Escapes in a double-quoted value are decoded as Go does.
    expect(hostsOf(route('Host("photos\\x2ehome\\u002Eexample\\056com")'))).toEqual([HOST]);
    expect(hostsOf(route('HostSNI(`*`)', 'IngressRouteTCP'))).toEqual(['*']);
    for (const m of ['Host("photos.home.example.com")', 'Host( `photos.home.example.com` )']) expect(routeServesHost(route(m), HOST, { exactOnly: true })).toBe(true);
  });

  it('counts a wildcard Host: *.d covers one label under d, **.d any depth; neither counts as exact', () => {
    expect(routeServesHost(route('Host(`*.home.example.com`)'), HOST)).toBe(true);
    expect(routeServesHost(route('Host(`*.home.example.com`)'), 'a.photos.home.example.com')).toBe(false);
    expect(routeServesHost(route('Host(`*.home.example.com`)'), 'home.example.com')).toBe(false);
    expect(routeServesHost(route('Host(`**.example.com`)'), 'a.photos.home.example.com')).toBe(true);
    expect(routeServesHost(route('Host(`**.example.com`)'), 'example.com')).toBe(false);
    expect(routeServesHost(route('Host(`*.home.example.com`)'), HOST, { exactOnly: true })).toBe(false);
  });

  it('counts HostRegexp and HostSNI(`*`) on TCP routes, not for exact checks', () => {
    expect(routeServesHost(route('HostRegexp(`^.+\\.home\\.example\\.com$`)'), HOST)).toBe(true);
    expect(routeServesHost(route('HostRegexp("^.+\\\\.other\\\\.org$")'), HOST)).toBe(false);
    expect(routeServesHost(route('HostSNI(`*`)', 'IngressRouteTCP'), HOST)).toBe(true);
    expect(routeServesHost(route('HostRegexp(`^.+\\.home\\.example\\.com$`)'), HOST, { exactOnly: true })).toBe(false);
    expect(routeServesHost(route('Host(`other.example.com`)'), HOST)).toBe(false);
  });

  it('fails closed on a host matcher it cannot read: it may serve any host (exactly, when it names the host)', () => {
    const unquoted = route('Host(photos.home.example.com)');
    expect(routeServesHost(unquoted, HOST)).toBe(true);
    expect(routeServesHost(unquoted, HOST, { exactOnly: true })).toBe(true);
    expect(routeServesHost(unquoted, 'tv.home.example.com', { exactOnly: true })).toBe(false);
    expect(routeServesHost(unquoted, 'tv.home.example.com')).toBe(true);
    // Go regexp syntax JavaScript does not take (inline flags) counts the same way.
    expect(routeServesHost(route('HostRegexp(`(?i)^tv\\.`)'), HOST)).toBe(true);
    expect(routeServesHost(route('Host("bad\\qescape")'), HOST)).toBe(true);
  });
});
