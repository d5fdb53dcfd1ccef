import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
} from '../../../../local/eventbridge/pattern.js';

// Examples follow AWS's "Content filtering in Amazon EventBridge event patterns", "Creating event patterns",
// "Arrays in event patterns", "Matching null values and empty strings", and event-ruler's README.
function ec2Event(detail: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '012345679012',
    time: '2017-10-02T16:24:49Z',
    region: 'us-east-1',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
    detail: {
      'c-count': 5,
      'd-count': 3,
      'x-limit': 301.8,
      'source-ip': '10.0.0.33',
      'instance-id': 'i-000000aaaaaa00000',
      state: 'running',
      ...detail,
    },
    ...overrides,
  };
}

type Case = [name: string, pattern: object, event: object, expected: boolean];

function cases(list: Case[]) {
  it.each(list)('%s', (_name, pattern, event, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });
}

describe('exact values, AND/OR and nesting', () => {
  cases([
    [
      'docs: detail-type, resources and detail.state all match',
      {
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
        detail: { state: ['initializing', 'running'] },
      },
      ec2Event(),
      true,
    ],
    [
      'docs: one field (state) outside its value list fails the AND',
      { 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['initializing', 'running'] } },
      ec2Event({ state: 'stopped' }),
      false,
    ],
    ['docs: source is aws.ec2 OR aws.fargate (first)', { source: ['aws.ec2', 'aws.fargate'] }, ec2Event(), true],
    [
      'docs: source is aws.ec2 OR aws.fargate (neither)',
      { source: ['aws.ec2', 'aws.fargate'] },
      ec2Event({}, { source: 'aws.s3' }),
      false,
    ],
    ['a field named in the pattern but absent from the event', { detail: { owner: ['me'] } }, ec2Event(), false],
    ['number matches the same number', { detail: { 'c-count': [5] } }, ec2Event(), true],
    ['number compares numerically (3.018e2 is 301.8)', { detail: { 'x-limit': [3.018e2] } }, ec2Event(), true],
    ['number never matches its string form', { detail: { 'c-count': ['5'] } }, ec2Event(), false],
    ['string never matches a number', { detail: { code: [5] } }, ec2Event({ code: '5' }), false],
    ['true matches the JSON literal true', { detail: { ok: [true] } }, ec2Event({ ok: true }), true],
    ['true does not match the string "true"', { detail: { ok: [true] } }, ec2Event({ ok: 'true' }), false],
    ['matching is case-sensitive', { detail: { state: ['Running'] } }, ec2Event(), false],
    [
      'a leaf in the pattern does not match an object in the event',
      { detail: { state: ['running'] } },
      ec2Event({ state: { name: 'running' } }),
      false,
    ],
    [
      'nested objects follow the event structure',
      { detail: { placement: { zone: ['us-east-1a'] } } },
      ec2Event({ placement: { zone: 'us-east-1a' } }),
      true,
    ],
  ]);
});

describe('null values and empty strings (docs)', () => {
  const event = ec2Event({ eventVersion: '', responseElements: null });
  cases([
    ['"" matches an empty string', { detail: { eventVersion: [''] } }, event, true],
    ['null matches null', { detail: { responseElements: [null] } }, event, true],
    ['"" does not match null', { detail: { responseElements: [''] } }, event, false],
    ['null does not match ""', { detail: { eventVersion: [null] } }, event, false],
    ['null does not match a missing field', { detail: { missing: [null] } }, event, false],
  ]);
});

describe('arrays in events', () => {
  const employees = {
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
      { firstName: 'Peter', lastName: 'Jones' },
    ],
  };
  cases([
    [
      'docs: pattern and event arrays intersect',
      {
        resources: [
          'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
          'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        ],
      },
      ec2Event(
        {},
        {
          resources: [
            'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate',
            'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
          ],
        },
      ),
      true,
    ],
    [
      'docs: pattern and event arrays do not intersect',
      { resources: ['arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'] },
      ec2Event(),
      false,
    ],
    ['ruler: a field inside objects of an array', { employees: { firstName: ['Anna'] } }, employees, true],
    [
      'ruler: two fields from the same array element',
      { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
      employees,
      true,
    ],
    [
      'ruler: two fields from different array elements never combine',
      { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
      employees,
      false,
    ],
    [
      'ruler: nested arrays are crushed too',
      { employees: { firstName: ['Peter'] } },
      { employees: [[{ firstName: 'John' }, { firstName: 'Anna' }], [{ firstName: 'Peter' }]] },
      true,
    ],
    ['an empty event array matches nothing', { detail: { tags: ['a'] } }, ec2Event({ tags: [] }), false],
  ]);
});

describe('prefix and suffix', () => {
  cases([
    ['docs: time starts with 2017-10-02', { time: [{ prefix: '2017-10-02' }] }, ec2Event(), true],
    ['docs: time does not start with 2017-10-03', { time: [{ prefix: '2017-10-03' }] }, ec2Event(), false],
    ['docs: Auto Scaling in a European region', { region: [{ prefix: 'eu-' }] }, ec2Event(), false],
    ['prefix only applies to strings', { detail: { 'c-count': [{ prefix: '5' }] } }, ec2Event(), false],
    [
      'docs: prefix equals-ignore-case EventB matches eventbridge',
      { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
      ec2Event({ service: 'eventbridge' }),
      true,
    ],
    [
      'prefix equals-ignore-case rejects another prefix',
      { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
      ec2Event({ service: 'events' }),
      false,
    ],
    ['docs: FileName ends with .png', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' }, true],
    ['suffix is case-sensitive', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' }, false],
    [
      'docs: suffix equals-ignore-case matches .PNG',
      { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
      ec2Event({ FileName: 'IMAGE.PNG' }),
      true,
    ],
    [
      'docs: suffix equals-ignore-case rejects .jpg',
      { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
      ec2Event({ FileName: 'image.jpg' }),
      false,
    ],
  ]);
});

describe('anything-but', () => {
  cases([
    [
      'docs: state is anything but initializing',
      { detail: { state: [{ 'anything-but': 'initializing' }] } },
      ec2Event(),
      true,
    ],
    [
      'docs: anything-but initializing rejects initializing',
      { detail: { state: [{ 'anything-but': 'initializing' }] } },
      ec2Event({ state: 'initializing' }),
      false,
    ],
    ['docs: x-limit is anything but 123', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, ec2Event(), true],
    [
      'anything-but 123 rejects 123',
      { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
      ec2Event({ 'x-limit': 123 }),
      false,
    ],
    [
      'docs: anything-but a list of strings rejects a listed one',
      { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
      ec2Event({ state: 'stopped' }),
      false,
    ],
    [
      'docs: anything-but a list of strings accepts another',
      { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
      ec2Event(),
      true,
    ],
    [
      'docs: anything-but a list of numbers rejects a listed one',
      { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
      ec2Event({ 'x-limit': 200 }),
      false,
    ],
    [
      'docs: anything-but a list of numbers accepts 301.8',
      { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
      ec2Event(),
      true,
    ],
    [
      'docs: anything-but prefix init rejects initializing',
      { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
      ec2Event({ state: 'initializing' }),
      false,
    ],
    [
      'docs: source anything-but prefix aws. accepts custom sources',
      { source: [{ 'anything-but': { prefix: 'aws.' } }] },
      ec2Event({}, { source: 'switchboard.messaging' }),
      true,
    ],
    [
      'docs: anything-but suffix .png rejects image.png',
      { FileName: [{ 'anything-but': { suffix: '.png' } }] },
      { FileName: 'image.png' },
      false,
    ],
    [
      'docs: anything-but suffix .png accepts notes.txt',
      { FileName: [{ 'anything-but': { suffix: '.png' } }] },
      { FileName: 'notes.txt' },
      true,
    ],
    [
      'docs: anything-but equals-ignore-case rejects INITIALIZING',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
      ec2Event({ state: 'INITIALIZING' }),
      false,
    ],
    [
      'anything-but equals-ignore-case list accepts an unlisted value',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Initializing', 'Stopped'] } }] } },
      ec2Event(),
      true,
    ],
    [
      'docs: anything-but wildcard */lib/* rejects a lib path',
      { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
      { FilePath: '/usr/lib/libc.so' },
      false,
    ],
    [
      'docs: anything-but wildcard */lib/* accepts a bin path',
      { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
      { FilePath: '/usr/bin/ls' },
      true,
    ],
    [
      'anything-but needs the field to be present',
      { detail: { owner: [{ 'anything-but': 'me' }] } },
      ec2Event(),
      false,
    ],
    [
      'anything-but a string accepts a number',
      { detail: { 'c-count': [{ 'anything-but': 'five' }] } },
      ec2Event(),
      true,
    ],
    [
      'anything-but on an event array: another element passes',
      { detail: { tags: [{ 'anything-but': 'a' }] } },
      ec2Event({ tags: ['a', 'b'] }),
      true,
    ],
    [
      'anything-but on an event array: only the excluded value',
      { detail: { tags: [{ 'anything-but': 'a' }] } },
      ec2Event({ tags: ['a'] }),
      false,
    ],
  ]);
});

describe('numeric', () => {
  const docsPattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };
  cases([
    ['docs: all three numeric conditions hold', docsPattern, ec2Event(), true],
    ['docs: c-count 6 is outside (0, 5]', docsPattern, ec2Event({ 'c-count': 6 }), false],
    ['c-count 0 is outside (0, 5] (open bottom)', docsPattern, ec2Event({ 'c-count': 0 }), false],
    ['d-count 10 is not < 10', docsPattern, ec2Event({ 'd-count': 10 }), false],
    ['>= includes its bound', { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, ec2Event(), true],
    [
      'numeric only matches JSON numbers',
      { detail: { code: [{ numeric: ['>', 0] }] } },
      ec2Event({ code: '5' }),
      false,
    ],
    [
      'numeric checks any element of an event array',
      { detail: { sizes: [{ numeric: ['>', 100] }] } },
      ec2Event({ sizes: [1, 2, 300] }),
      true,
    ],
  ]);
});

describe('exists', () => {
  cases([
    ['docs: exists true with detail.state present', { detail: { state: [{ exists: true }] } }, ec2Event(), true],
    [
      'docs: exists true without detail.state',
      { detail: { state: [{ exists: true }] } },
      { detail: { 'c-count': { c1: 100 } } },
      false,
    ],
    [
      'docs: exists false without detail.c-count',
      { detail: { 'c-count': [{ exists: false }] } },
      { 'detail-type': 'x', detail: { state: ['initializing', 'running'] } },
      true,
    ],
    [
      'docs: exists false also matches when c-count is not a leaf',
      { detail: { 'c-count': [{ exists: false }] } },
      { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } },
      true,
    ],
    ['exists false with the leaf present', { detail: { 'c-count': [{ exists: false }] } }, ec2Event(), false],
    [
      'exists true does not match an intermediate node',
      { detail: { placement: [{ exists: true }] } },
      ec2Event({ placement: { zone: 'a' } }),
      false,
    ],
    ['exists true matches a null value', { detail: { owner: [{ exists: true }] } }, ec2Event({ owner: null }), true],
    [
      'exists true does not match an empty array',
      { detail: { tags: [{ exists: true }] } },
      ec2Event({ tags: [] }),
      false,
    ],
    [
      'exists false OR a value: present with that value',
      { detail: { state: [{ exists: false }, 'running'] } },
      ec2Event(),
      true,
    ],
  ]);
});

describe('equals-ignore-case and wildcard', () => {
  cases([
    ['docs: Name equals-ignore-case alice', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' }, true],
    [
      'equals-ignore-case rejects another name',
      { Name: [{ 'equals-ignore-case': 'alice' }] },
      { Name: 'Alicia' },
      false,
    ],
    ['docs: png files in dir', { EventBusArn: [{ wildcard: 'dir/*.png' }] }, { EventBusArn: 'dir/logo.png' }, true],
    [
      'docs: jpg files are not png',
      { EventBusArn: [{ wildcard: 'dir/*.png' }] },
      { EventBusArn: 'dir/logo.jpg' },
      false,
    ],
    ['ruler: Simple*Service', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueueService' }, true],
    ['* matches the empty run', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleService' }, true],
    ['an escaped \\* is a literal asterisk', { k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' }, true],
    ['an escaped \\* does not match other characters', { k: [{ wildcard: 'a\\*b' }] }, { k: 'axb' }, false],
    ['wildcard only matches strings', { k: [{ wildcard: '*' }] }, { k: 5 }, false],
    ['regex characters are literal in a wildcard', { k: [{ wildcard: 'a.c*' }] }, { k: 'abcd' }, false],
  ]);
});

describe('cidr', () => {
  cases([
    ['docs: 10.0.0.33 is in 10.0.0.0/24', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, ec2Event(), true],
    [
      '10.0.1.1 is outside 10.0.0.0/24',
      { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
      ec2Event({ 'source-ip': '10.0.1.1' }),
      false,
    ],
    [
      'IPv6 address inside 2001:db8::/32',
      { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } },
      ec2Event({ 'source-ip': '2001:0db8:85a3::8a2e:370:7334' }),
      true,
    ],
    [
      'IPv6 address outside 2001:db8::/32',
      { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } },
      ec2Event({ 'source-ip': '2001:db9::1' }),
      false,
    ],
    ['an IPv4 address is never in an IPv6 block', { detail: { 'source-ip': [{ cidr: '::/0' }] } }, ec2Event(), false],
    [
      'a string that is not an address',
      { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } },
      ec2Event({ 'source-ip': 'localhost' }),
      false,
    ],
    [
      'an exact IPv6 string matches another spelling of the same address',
      { detail: { 'source-ip': ['2001:db8::1'] } },
      ec2Event({ 'source-ip': '2001:0db8:0:0::1' }),
      true,
    ],
  ]);
});

describe('$or', () => {
  const orPattern = {
    source: ['aws.cloudwatch'],
    $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
  };
  const andInsideOr = {
    source: ['aws.cloudwatch'],
    $or: [
      { metricName: ['CPUUtilization'] },
      { metricType: ['MetricType'], namespace: ['AWS/EC2'] },
      { scope: ['Service'] },
    ],
  };
  cases([
    [
      'source AND (metricName OR namespace): via metricName',
      orPattern,
      { source: 'aws.cloudwatch', metricName: 'ReadLatency' },
      true,
    ],
    [
      'source AND (metricName OR namespace): via namespace',
      orPattern,
      { source: 'aws.cloudwatch', namespace: 'AWS/ES' },
      true,
    ],
    [
      'source AND (metricName OR namespace): neither',
      orPattern,
      { source: 'aws.cloudwatch', metricName: 'Other' },
      false,
    ],
    ['source AND (...): wrong source', orPattern, { source: 'aws.ec2', metricName: 'ReadLatency' }, false],
    [
      'an AND inside an OR needs both fields',
      andInsideOr,
      { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES' },
      false,
    ],
    [
      'an AND inside an OR with both fields',
      andInsideOr,
      { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' },
      true,
    ],
    [
      'docs: $or inside detail over numeric conditions',
      {
        detail: {
          $or: [
            { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
            { 'd-count': [{ numeric: ['<', 10] }] },
            { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
          ],
        },
      },
      ec2Event({ 'c-count': 50, 'd-count': 50 }),
      true,
    ],
    [
      'nested $or: (metricName OR (namespace AND (metricId OR spaceId)))',
      {
        $or: [
          { metricName: ['CPUUtilization'] },
          { namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        ],
      },
      { namespace: 'AWS/EC2', spaceId: 1000 },
      true,
    ],
    [
      'a field value list mixes operators as OR',
      { detail: { state: ['stopped', { prefix: 'run' }] } },
      ec2Event(),
      true,
    ],
  ]);
});

describe('patterns and events given as JSON text', () => {
  it('accepts both as strings, like TestEventPattern', () => {
    expect(matchesEventPattern('{"source":["aws.ec2"]}', JSON.stringify(ec2Event()))).toBe(true);
    expect(compileEventPattern({ source: ['x'] }).matches(JSON.stringify(ec2Event()))).toBe(false);
  });

  it('never matches an event that is not an object', () => {
    expect(matchesEventPattern({ source: ['aws.ec2'] }, ['aws.ec2'])).toBe(false);
  });
});

describe('validateEventPattern', () => {
  it.each<[string, unknown, RegExp]>([
    ['a pattern that is not an object', ['aws.ec2'], /Filter is not an object/],
    ['an empty object', {}, /Empty objects/],
    ['an empty value array', { source: [] }, /Empty arrays/],
    ['a bare value instead of an array', { source: 'aws.ec2' }, /must be an object or an array/],
    ['an unknown operator', { source: [{ contains: 'ec2' }] }, /Unrecognized match type contains/],
    ['two keys in one match expression', { source: [{ prefix: 'a', suffix: 'b' }] }, /Only one key/],
    ['an array as a match value', { source: [['a']] }, /Match value must be/],
    ['an upper bound before a lower bound', { n: [{ numeric: ['<', 10, '>', 0] }] }, /Too many elements/],
    ['an empty numeric range', { n: [{ numeric: ['>', 5, '<', 5] }] }, /Bottom must be less than top/],
    ['an unknown numeric operator', { n: [{ numeric: ['!=', 5] }] }, /Unrecognized numeric range operator/],
    ['a non-numeric bound', { n: [{ numeric: ['>', '5'] }] }, /must be numeric/],
    ['anything-but with mixed types', { s: [{ 'anything-but': ['a', 1] }] }, /mixed type/],
    ['anything-but null', { s: [{ 'anything-but': null }] }, /anything-but must be/],
    [
      'anything-but with an unsupported operator',
      { s: [{ 'anything-but': { numeric: ['>', 1] } }] },
      /Unsupported anything-but/,
    ],
    ['anything-but with an empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }, /Null prefix\/suffix/],
    ['exists with a non-boolean', { s: [{ exists: 'yes' }] }, /exists match pattern must be either true or false/],
    ['cidr without a prefix length', { ip: [{ cidr: '10.0.0.0' }] }, /Malformed CIDR/],
    ['cidr with too long a prefix', { ip: [{ cidr: '10.0.0.0/33' }] }, /prefix length/],
    ['consecutive wildcards', { k: [{ wildcard: 'a**b' }] }, /consecutive wildcard/],
    ['a backslash escaping a letter in a wildcard', { k: [{ wildcard: 'a\\b' }] }, /backslash/],
    [
      'prefix with an unsupported nested operator',
      { k: [{ prefix: { wildcard: 'a' } }] },
      /Unsupported prefix pattern/,
    ],
    ['$or with a single alternative', { $or: [{ a: ['x'] }] }, /at least 2/],
    ['$or that is not an array', { $or: { a: ['x'] } }, /\$or must be followed by an array/],
    ['an operator name used as a field inside $or', { $or: [{ prefix: ['x'] }, { a: ['y'] }] }, /reserved operator/],
    ['the same path twice through $or', { a: ['x'], $or: [{ a: ['y'] }, { b: ['z'] }] }, /multiple times/],
    ['pattern text that is not JSON', '{"source": [', /not valid JSON/],
  ])('rejects %s', (_name, pattern, reason) => {
    expect(() => validateEventPattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => validateEventPattern(pattern)).toThrow(reason);
  });

  it('accepts every documented operator together', () => {
    expect(() =>
      validateEventPattern({
        source: ['switchboard.messaging', { prefix: 'sw' }, { suffix: { 'equals-ignore-case': '.MESSAGING' } }],
        detail: {
          a: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }],
          b: [{ numeric: ['>=', 0, '<', 1e9] }],
          c: [{ exists: false }, null, true, 0],
          d: [{ cidr: '2001:db8::/32' }, { 'equals-ignore-case': 'X' }, { wildcard: 'a\\*b*' }],
          $or: [{ e: ['1'] }, { f: ['2'] }],
        },
      }),
    ).not.toThrow();
  });
});
