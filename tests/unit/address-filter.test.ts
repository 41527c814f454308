import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isLocalAddress } from '../../peer/node/address-filter.js';
import { listenerEndpoints } from '../../peer/node/interface-endpoints.js';

describe('local source addresses', () => {
  it('take loopback, private and link-local addresses, and their IPv4-mapped forms', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '10.255.255.255',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.20',
      '169.254.3.4',
      '::1',
      'fc00::1',
      'fd12:3456::9',
      'fe80::1',
      'febf::1',
      'fe80::1%eth0',
      '::ffff:192.168.1.2',
      '::ffff:127.0.0.1',
      '::FFFF:10.1.2.3',
    ]) {
      expect([address, isLocalAddress(address)]).toEqual([address, true]);
    }
  });

  it('refuse public, special and malformed addresses', () => {
    for (const address of [
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '192.169.0.1',
      '11.0.0.1',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '::',
      '::2',
      '2001:db8::1',
      'fec0::1',
      'fbff::1',
      '::ffff:8.8.8.8',
      '::127.0.0.1',
      '',
      'localhost',
      '010.0.0.1',
      '10.0.0.256',
      'unknown',
    ]) {
      expect([address, isLocalAddress(address)]).toEqual([address, false]);
    }
  });
});

describe('listener endpoints', () => {
  const info = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null }) as NetworkInterfaceInfo;
  const interfaces = {
    lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
    eth0: [info('192.168.1.20', 'IPv4'), info('fe80::1', 'IPv6'), info('fd00::20', 'IPv6')],
    wan: [info('203.0.113.7', 'IPv4'), info('2001:db8::7', 'IPv6')],
  };

  it('give the bound address itself when it is not a wildcard', () => {
    expect(listenerEndpoints('127.0.0.1', 9, true, interfaces)).toEqual([
      { host: '127.0.0.1', port: 9 },
    ]);
  });

  it('give interface addresses for a wildcard, private ones only when local only', () => {
    expect(listenerEndpoints('0.0.0.0', 9, true, interfaces)).toEqual([
      { host: '192.168.1.20', port: 9 },
    ]);
    expect(listenerEndpoints('0.0.0.0', 9, false, interfaces)).toEqual([
      { host: '192.168.1.20', port: 9 },
      { host: '203.0.113.7', port: 9 },
    ]);
    expect(listenerEndpoints('::', 9, true, interfaces)).toEqual([
      { host: '192.168.1.20', port: 9 },
      { host: 'fd00::20', port: 9 },
    ]);
    expect(listenerEndpoints('::', 9, false, interfaces).map((e) => e.host)).toEqual([
      '192.168.1.20',
      '203.0.113.7',
      'fd00::20',
      '2001:db8::7',
    ]);
  });
});
