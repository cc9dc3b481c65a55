// The ASIM parsers (Authentication, FileEvent, AuditEvent, UserManagement; ASim… and filtering vim… forms) against
// their schemas: the result columns, as the Kusto language service computes them from the parser text, are schema
// fields of the schema's types; every mandatory field is there and every recommended one unless this data cannot
// fill it; conditional and alias fields come with their partners; enumerated fields take only the schema's values;
// the vim parsers take the unifying parsers' filter parameters; and the parser YAML passes the checks of
// Azure-Sentinel's ASIM parser template validator.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ASIM_FILTER_PARAMETERS,
  ASIM_SCHEMAS,
  ASIM_TESTER_EVENT_PRODUCTS,
  type AsimSchema,
  MCAS_EVENT_PRODUCT,
} from './asimSchemas.js';
import { parserFunctions, readParsers, readText } from './content.js';
import { analyseWorkspace, type KqlColumn, splitArguments } from './kusto.js';

/**
 * Recommended fields these parsers leave out, and why: Defender for Cloud Apps records are about SaaS activity and
 * name no device, host or domain of the reporting or target system, nor a user id the table keeps.
 */
const NOT_APPLICABLE: Record<string, Readonly<Record<string, string>>> = {
  Authentication: {
    DvcAction: 'MCAS records no action of a reporting device',
    DvcDomain: 'no reporting device',
    DvcHostname: 'no reporting device',
    DvcIpAddr: 'no reporting device',
    TargetDomain: 'the target is a SaaS app, TargetAppName',
    TargetHostname: 'the target is a SaaS app, TargetAppName',
  },
  FileEvent: {
    ActorUserId: 'the table keeps the user name, not an id',
    DvcAction: 'no reporting device',
    DvcDomain: 'no reporting device',
    DvcHostname: 'no reporting device',
    DvcIpAddr: 'no reporting device',
    SrcFilePath:
      'only copy and move have a source file; MCAS activities here are downloads, uploads, deletions, shares',
    SrcFilePathType: 'no source file',
  },
  AuditEvent: {
    DvcAction: 'no reporting device',
    DvcDomain: 'no reporting device',
    DvcHostname: 'no reporting device',
    DvcIpAddr: 'no reporting device',
    EventResultDetails: 'MCAS gives a free-text message only, kept in EventOriginalResultDetails',
    TargetHostname: 'the target is a SaaS app, TargetAppName',
    TargetIpAddr: 'the target is a SaaS app, TargetAppName',
  },
  UserManagement: {
    DvcAction: 'no reporting device',
    DvcDomain: 'no reporting device',
    DvcFQDN: 'no reporting device',
    DvcHostname: 'no reporting device',
    DvcId: 'no reporting device',
    DvcIdType: 'no reporting device',
    DvcIpAddr: 'no reporting device',
    SrcDomain: 'MCAS records name the client address only',
    SrcDomainType: 'no source domain',
    SrcHostname: 'MCAS records name the client address only',
  },
};

/** Kusto type names of the schema's types. */
const KUSTO_TYPE: Record<string, string> = {
  string: 'string',
  datetime: 'datetime',
  int: 'int',
  long: 'long',
  real: 'real',
  bool: 'bool',
  dynamic: 'dynamic',
};

/** Problems with a parser's result columns against its schema. */
function columnProblems(
  schema: AsimSchema,
  columns: readonly KqlColumn[],
  notApplicable: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const have = new Map(columns.map((column) => [column.name, column.type]));
  for (const column of columns) {
    const field = schema.fields.get(column.name);
    if (field === undefined) problems.push(`${column.name} is not a ${schema.name} field`);
    else if (KUSTO_TYPE[field.type] !== column.type)
      problems.push(`${column.name} is ${column.type}, the schema says ${field.type}`);
  }
  for (const field of schema.fields.values()) {
    const present = have.has(field.name);
    if (field.class === 'Mandatory' && !present) problems.push(`mandatory ${field.name} is missing`);
    if (field.class === 'Recommended' && !present && notApplicable[field.name] === undefined) {
      problems.push(`recommended ${field.name} is missing`);
    }
    if (field.class === 'Conditional' && have.has(field.relatedTo) && !present) {
      problems.push(`${field.name} must come with ${field.relatedTo}`);
    }
    if (field.class === 'Alias' && present && !have.has(field.relatedTo)) {
      problems.push(`alias ${field.name} without ${field.relatedTo}`);
    }
  }
  for (const name of Object.keys(notApplicable)) {
    if (have.has(name)) problems.push(`${name} is listed as not applicable but is mapped`);
  }
  return problems;
}

/** The text of the expression assigned to `field` at `start`: up to a comma or line end outside brackets. */
function expressionAt(text: string, start: number): string {
  let depth = 0;
  let quoted = false;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (char === "'") quoted = !quoted;
    if (quoted) continue;
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    if (depth < 0 || (depth === 0 && (char === ',' || char === '\n'))) return text.slice(start, index).trim();
  }
  return text.slice(start).trim();
}

/** The values an assignment can produce: the results of case()/iff(), or the expression itself. */
function resultsOf(expression: string): string[] {
  if (/^case\(/.test(expression)) {
    const args = splitArguments(expression);
    return args.filter((_arg, index) => index % 2 === 1 || index === args.length - 1);
  }
  if (/^iff\(/.test(expression)) return splitArguments(expression).slice(1);
  return [expression];
}

/** Problems with the literal values assigned to the schema's enumerated fields in a parser's query. */
function enumerationProblems(schema: AsimSchema, query: string): string[] {
  const problems: string[] = [];
  for (const field of schema.fields.values()) {
    if (field.allowed.length === 0) continue;
    for (const match of query.matchAll(new RegExp(`(?<![\\w.])${field.name}\\s*=(?!=)`, 'g'))) {
      for (const result of resultsOf(expressionAt(query, match.index + match[0].length))) {
        const literal = /^'([^']*)'$/.exec(result)?.[1];
        if (literal === undefined) continue;
        if (literal === '' && field.class !== 'Mandatory') continue;
        if (!field.allowed.includes(literal))
          problems.push(`${field.name} = '${literal}' is not one of ${field.allowed.join('|')}`);
      }
    }
  }
  return problems;
}

/** sentinel/asim-tester/ASimTester.EventProduct.csv: the EventProduct values it gives each schema. */
const testerRows = new Map(
  readText('sentinel/asim-tester/ASimTester.EventProduct.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','))
    .filter(([column, , , , kind]) => column === 'EventProduct' && kind === 'Enumerated')
    .map(([, , , schema = '', , values = '']) => [schema, values.split('|')]),
);

describe('ASIM parsers', () => {
  const functions = parserFunctions();
  const workspace = analyseWorkspace('dataCollector', functions);
  const asimParsers = readParsers().filter((parser) => /^(ASim|vim)/.test(parser.function.name));

  it('cover Authentication, FileEvent, AuditEvent and UserManagement, each as ASim and vim', () => {
    assert.deepEqual(
      asimParsers.map((parser) => parser.function.name).sort(),
      Object.keys(ASIM_SCHEMAS)
        .flatMap((schema) => [`ASim${schema}MCASActivity`, `vim${schema}MCASActivity`])
        .sort(),
    );
  });

  for (const parser of asimParsers) {
    const content = parser.content;
    const schemaName = String((content['Normalization'] as Record<string, unknown>)['Schema']);
    const schema = ASIM_SCHEMAS[schemaName] ?? assert.fail(`${parser.file}: unknown schema ${schemaName}`);
    const name = parser.function.name;
    const query = parser.function.body;

    describe(name, () => {
      it(`returns ${schemaName} fields of the schema's types, mandatory and recommended ones included`, () => {
        const columns = workspace.bodies.get(name)?.columns ?? assert.fail('no table');
        assert.deepEqual(columnProblems(schema, columns, NOT_APPLICABLE[schemaName] ?? {}), []);
      });

      it("assigns enumerated fields only the schema's values, and the schema's name, version and a known vendor", () => {
        assert.deepEqual(enumerationProblems(schema, query), []);
        assert.match(query, new RegExp(`EventSchema = '${schema.name}'`));
        assert.match(query, new RegExp(`EventSchemaVersion = '${schema.version.replace(/\./g, '\\.')}'`));
      });

      it("passes the ASIM parser template validator's checks", () => {
        // VerifyASimParserTemplate.py: EventProduct and EventVendor are literals in the query; title, version,
        // LastUpdated, schema and its version, references, ParserName and EquivalentBuiltInParser formats.
        const product = /EventProduct\s*=\s*['"]([^'"]+)['"]/.exec(query)?.[1];
        const vendor = /EventVendor\s*=\s*['"]([^'"]+)['"]/.exec(query)?.[1];
        assert.equal(product, MCAS_EVENT_PRODUCT);
        // The ASIM data tester enumerates EventProduct per schema: the shipped rows for its CSV add this one.
        const row = testerRows.get(schemaName) ?? assert.fail(`no EventProduct row for ${schemaName}`);
        assert.ok(row.includes(product), `${product} in ${row.join('|')}`);
        assert.deepEqual(row.slice(0, -1), ASIM_TESTER_EVENT_PRODUCTS[schemaName], 'the tester row as it is, plus one');
        assert.ok(schema.fields.get('EventVendor')?.allowed.includes(vendor ?? ''), `vendor ${String(vendor)}`);
        const header = content['Parser'] as Record<string, unknown>;
        assert.ok(String(header['Title']).length > 0);
        assert.match(String(header['Version']), /^\d+\.\d+\.\d+$/);
        assert.match(String(header['LastUpdated']), /^[A-Z][a-z]{2} \d{1,2}, \d{4}$/);
        assert.equal((content['Normalization'] as Record<string, unknown>)['Version'], schema.version);
        const references = content['References'] as Record<string, unknown>[];
        assert.ok(references.some((ref) => ref['Title'] === schema.title && ref['Link'] === schema.link));
        assert.ok(references.some((ref) => ref['Title'] === 'ASIM' && ref['Link'] === 'https://aka.ms/AboutASIM'));
        const kind = name.startsWith('vim') ? 'vim' : 'ASim';
        assert.match(name, new RegExp(`^${kind}${schemaName}`));
        assert.match(
          String(content['EquivalentBuiltInParser']),
          new RegExp(`^_${kind === 'vim' ? 'Im' : 'ASim'}_${schemaName}_`),
        );
      });

      it('takes the parameters its unifying parser passes, and filters by each', () => {
        const params = (content['ParserParams'] as Record<string, unknown>[]).map((param) => String(param['Name']));
        if (name.startsWith('ASim')) {
          assert.deepEqual(params, ['disabled']);
          return;
        }
        assert.deepEqual([...params].sort(), [...(ASIM_FILTER_PARAMETERS[schemaName] ?? [])].sort());
        for (const param of params) assert.match(query, new RegExp(`\\b${param}\\b`), `${param} is used`);
        assert.match(query, /where not\(disabled\)/);
      });

      it('reads MCASActivity with its time filter, so the filters run before the deduplication', () => {
        assert.match(query, /MCASActivity\(starttime = starttime, endtime = endtime\b/);
      });
    });
  }

  it('reports a field outside the schema, a wrong type, a missing mandatory field and an unknown value', () => {
    const schema = ASIM_SCHEMAS['Authentication'] ?? assert.fail('schema');
    const columns: KqlColumn[] = [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'EventCount', type: 'long' },
      { name: 'LogonColour', type: 'string' },
      { name: 'TargetUsername', type: 'string' },
    ];
    const problems = columnProblems(schema, columns, {});
    assert.ok(problems.includes('LogonColour is not a Authentication field'), problems.join('\n'));
    assert.ok(problems.includes('EventCount is long, the schema says int'));
    assert.ok(problems.includes('mandatory EventResult is missing'));
    assert.ok(problems.includes('recommended SrcIpAddr is missing'));
    assert.ok(problems.includes('TargetUsernameType must come with TargetUsername'));
    assert.deepEqual(
      enumerationProblems(
        schema,
        "| extend EventResult = case(x, 'Success', 'Succeeded'), EventType = iff(y, 'Logon', '')",
      ),
      [
        "EventResult = 'Succeeded' is not one of Success|Partial|Failure|NA",
        "EventType = '' is not one of Logon|Logoff|Elevate",
      ],
    );
  });
});
