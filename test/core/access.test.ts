import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AccessPolicy } from '../../src/core/access.js';
import type { Identity } from '../../src/plan/model.js';

const policy = (access: unknown) => {
  const res = parseConfig({ domain: 'home.example.com', access }, {}, 'test');
  if (!res.ok) throw new Error(res.problems.join());
  return new AccessPolicy(res.config);
};
const shell = (name: string): Identity => ({ platform: 'shell', id: name, name, roles: [] });
const discord = (id: string, roles: string[] = []): Identity => ({ platform: 'discord', id, name: `u${id}`, roles });

describe('declared access', () => {
  const p = policy({
    groups: { admins: ['shell:alice', 'discord:role:900'], ops: ['shell:bob', 'discord:user:42'] },
    defaults: { request: ['ops', 'admins'], approve: ['admins'] },
    commands: { 'route list': { request: ['*'] }, expose: { selfApprove: true } },
  });

  it('lets group members request and refuses others with a denial naming who may', () => {
    expect(p.mayRequest('expose', shell('bob'))).toBeNull();
    expect(p.mayRequest('expose', discord('42'))).toBeNull();
    expect(p.mayRequest('expose', discord('7', ['900']))).toBeNull();
    expect(p.mayRequest('expose', shell('mallory'))).toEqual({ id: 'access.request', message: 'you may not run /expose (allowed: ops, admins)' });
    expect(p.mayRequest('route list', shell('mallory'))).toBeNull();
  });

  it('approval needs the approve rule and, unless allowed, someone other than the requester', () => {
    expect(p.mayApprove('unexpose', shell('bob'), shell('alice'))?.id).toBe('access.approve');
    expect(p.mayApprove('unexpose', shell('alice'), shell('alice'))?.id).toBe('access.self-approval');
    expect(p.mayApprove('unexpose', discord('1', ['900']), shell('alice'))).toBeNull();
    expect(p.mayApprove('expose', shell('alice'), shell('alice'))).toBeNull();
  });

  it('the same name on another platform is another person', () => {
    expect(p.mayApprove('unexpose', shell('alice'), { ...discord('alice'), name: 'alice' })).toBeNull();
  });

  it('nothing is allowed when nothing is configured', () => {
    const empty = policy({});
    expect(empty.mayRequest('expose', shell('alice'))?.message).toBe('you may not run /expose (allowed: nobody (not configured))');
    expect(empty.mayApprove('expose', shell('alice'), shell('bob'))?.id).toBe('access.approve');
  });

  it('requesters may withdraw (reject) their own plans', () => {
    expect(p.mayReject('expose', shell('bob'), shell('bob'))).toBeNull();
    expect(p.mayReject('expose', shell('mallory'), shell('bob'))?.id).toBe('access.approve');
  });
});
