import { dirname, resolve } from 'node:path';
import { checkParameterOverrides, type ParameterDeclaration } from './parameters.js';
import { loadCfnTemplate } from './template-loader.js';

/**
 * A small CloudFormation evaluator for the local stack: it loads the root template and its
 * nested applications, and resolves Ref, GetAtt, Sub and the condition functions the way
 * CloudFormation would, with local physical names. The local runtime reads everything it needs
 * (tables, routes, rules, state machines, environment variables) from these evaluated templates,
 * so the templates stay the single source of truth.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplateDocument {
  Parameters?: Record<string, ParameterDeclaration>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Globals?: Record<string, Record<string, unknown>>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface LocalEnvironment {
  region: string;
  accountId: string;
}

/** Thrown when a template uses something this evaluator cannot resolve. */
export class TemplateEvaluationError extends Error {
  override name = 'TemplateEvaluationError';
}

/**
 * The label of every table's stream ARN here: AWS (and DynamoDB Local) label a stream by its creation
 * time, unknown until the table exists; the local IAM front reads any real label as this one.
 */
export const LOCAL_STREAM_LABEL = 'local';

/** Marks a property removed by `AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

export class LocalCfnStack {
  readonly children = new Map<string, LocalCfnStack>();
  private readonly conditionCache = new Map<string, boolean>();

  private constructor(
    readonly name: string,
    readonly templatePath: string,
    readonly template: CfnTemplateDocument,
    private readonly parameterValues: Record<string, () => unknown>,
    readonly env: LocalEnvironment,
  ) {}

  /**
   * Loads a template and, recursively, its nested applications with local `Location`s. The root's
   * parameter overrides are checked as CloudFormation checks them (declared, allowed values).
   */
  static async load(
    templatePath: string,
    options: { name: string; parameters?: Record<string, string>; env: LocalEnvironment },
  ): Promise<LocalCfnStack> {
    const root = await LocalCfnStack.loadWith(
      resolve(templatePath),
      options.name,
      Object.fromEntries(Object.entries(options.parameters ?? {}).map(([key, value]) => [key, () => value])),
      options.env,
    );
    checkParameterOverrides(root.template.Parameters, options.parameters ?? {});
    return root;
  }

  private static async loadWith(
    templatePath: string,
    name: string,
    parameters: Record<string, () => unknown>,
    env: LocalEnvironment,
  ): Promise<LocalCfnStack> {
    const template = (await loadCfnTemplate(templatePath)) as unknown as CfnTemplateDocument;
    const stack = new LocalCfnStack(name, templatePath, template, parameters, env);
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Serverless::Application') continue;
      const location = resource.Properties?.Location;
      if (typeof location !== 'string') continue;
      const passed = (resource.Properties?.Parameters ?? {}) as Record<string, unknown>;
      const childParameters = Object.fromEntries(
        Object.entries(passed).map(([key, value]) => [key, () => stack.evaluate(value)]),
      );
      const child = await LocalCfnStack.loadWith(
        resolve(dirname(templatePath), location),
        `${name}-${logicalId}`,
        childParameters,
        env,
      );
      stack.children.set(logicalId, child);
    }
    return stack;
  }

  /** Every stack in the tree, root first. */
  *all(): Generator<LocalCfnStack> {
    yield this;
    for (const child of this.children.values()) yield* child.all();
  }

  parameter(name: string): unknown {
    const passed = this.parameterValues[name];
    if (passed) return passed();
    const declared = this.template.Parameters?.[name];
    if (!declared) throw new TemplateEvaluationError(`${this.name}: unknown parameter ${name}`);
    if (declared.Default === undefined)
      throw new TemplateEvaluationError(`${this.name}: parameter ${name} has no value`);
    return declared.Default;
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateEvaluationError(`${this.name}: unknown condition ${name}`);
    const value = Boolean(this.evaluate(definition));
    this.conditionCache.set(name, value);
    return value;
  }

  /** Whether a resource exists under the current conditions. */
  has(logicalId: string): boolean {
    const resource = this.template.Resources[logicalId];
    return resource !== undefined && (resource.Condition === undefined || this.condition(resource.Condition));
  }

  resources(type?: string): Array<[string, CfnResource]> {
    return Object.entries(this.template.Resources).filter(
      ([logicalId, resource]) => (type === undefined || resource.Type === type) && this.has(logicalId),
    );
  }

  output(name: string): unknown {
    const output = this.template.Outputs?.[name];
    if (!output) throw new TemplateEvaluationError(`${this.name}: unknown output ${name}`);
    return this.evaluate(output.Value);
  }

  /** The local physical name of a resource (table name, function name, bus name...). */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new TemplateEvaluationError(`${this.name}: unknown resource ${logicalId}`);
    const props = resource.Properties ?? {};
    const explicit: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Serverless::Function': 'FunctionName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::Events::EventBus': 'Name',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::Serverless::StateMachine': 'Name',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::S3::Bucket': 'BucketName',
    };
    const key = explicit[resource.Type];
    if (key && props[key] !== undefined) return String(this.evaluate(props[key]));
    // Bucket names are lower case (CloudFormation generates one from the stack and logical id).
    if (resource.Type === 'AWS::S3::Bucket') return logicalId.toLowerCase();
    return logicalId;
  }

  arnOf(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    const { region, accountId } = this.env;
    const name = this.physicalName(logicalId);
    switch (resource?.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::Serverless::Function':
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${region}:${accountId}:rule/${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::Serverless::StateMachine':
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::Cognito::UserPool':
        return `arn:aws:cognito-idp:${region}:${accountId}:userpool/${this.ref(logicalId)}`;
      default:
        return `arn:aws:local:${region}:${accountId}:${logicalId}`;
    }
  }

  ref(name: string): unknown {
    const { region, accountId } = this.env;
    const pseudo: Record<string, unknown> = {
      'AWS::Region': region,
      'AWS::AccountId': accountId,
      'AWS::Partition': 'aws',
      'AWS::StackName': this.name,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${this.name}/local`,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': NO_VALUE,
    };
    if (name in pseudo) return pseudo[name];
    if (this.template.Parameters?.[name] || this.parameterValues[name]) return this.parameter(name);
    const resource = this.template.Resources[name];
    if (!resource) {
      // SAM's implicit resources (e.g. `FunctionRole`) have no local meaning; a stable placeholder will do.
      return `local-${name}`;
    }
    switch (resource.Type) {
      case 'AWS::Serverless::StateMachine':
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SQS::Queue':
        return resource.Type === 'AWS::SQS::Queue'
          ? `http://127.0.0.1/queue/${this.physicalName(name)}`
          : this.arnOf(name);
      case 'AWS::Cognito::UserPool':
        return `${region}_local${name}`;
      case 'AWS::Cognito::UserPoolClient':
        return `local${name}`;
      case 'AWS::ApiGatewayV2::Stage':
        return String(this.evaluate(resource.Properties?.StageName));
      case 'AWS::ApiGatewayV2::Api':
      case 'AWS::Serverless::HttpApi':
        return name.toLowerCase().slice(0, 10);
      default:
        return this.physicalName(name);
    }
  }

  getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.template.Resources[logicalId];
    if (resource?.Type === 'AWS::Serverless::Application' && attribute.startsWith('Outputs.')) {
      const child = this.children.get(logicalId);
      if (!child) throw new TemplateEvaluationError(`${this.name}: nested stack ${logicalId} was not loaded`);
      return child.output(attribute.slice('Outputs.'.length));
    }
    switch (attribute) {
      case 'Arn':
        return this.arnOf(logicalId);
      case 'StreamArn':
        return `${this.arnOf(logicalId)}/stream/${LOCAL_STREAM_LABEL}`;
      case 'Name':
      case 'QueueName':
        return this.physicalName(logicalId);
      case 'QueueUrl':
        return this.ref(logicalId);
      case 'ApiEndpoint':
        return `local://${this.ref(logicalId)}`;
      default:
        return `local-${logicalId}.${attribute}`;
    }
  }

  /** Evaluates intrinsic functions in a template value; `AWS::NoValue` properties disappear. */
  evaluate(value: unknown): unknown {
    const result = this.evaluateInner(value);
    return result === NO_VALUE ? undefined : result;
  }

  private evaluateInner(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.evaluateInner(item)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0] as [string, unknown];
      if (key === 'Ref') return this.ref(String(argument));
      if (key === 'Condition' && typeof argument === 'string') return this.condition(argument);
      if (key.startsWith('Fn::')) return this.intrinsic(key, argument);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const evaluated = this.evaluateInner(item);
      if (evaluated !== NO_VALUE) out[key] = evaluated;
    }
    return out;
  }

  private intrinsic(name: string, argument: unknown): unknown {
    const args = Array.isArray(argument) ? argument : [argument];
    switch (name) {
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] =
          typeof argument === 'string' ? argument.split('.') : (argument as string[]).map(String);
        return this.getAtt(String(logicalId), attribute.join('.'));
      }
      case 'Fn::Sub':
        return this.substitute(args[0] as string, (args[1] ?? {}) as Record<string, unknown>);
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args as [string, unknown, unknown];
        return this.evaluateInner(this.condition(condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [left, right] = args.map((item) => this.evaluate(item));
        return String(left) === String(right);
      }
      case 'Fn::Not':
        return !this.evaluate(args[0]);
      case 'Fn::And':
        return args.every((item) => Boolean(this.evaluate(item)));
      case 'Fn::Or':
        return args.some((item) => Boolean(this.evaluate(item)));
      case 'Fn::Join': {
        const [separator, list] = args as [string, unknown];
        return (this.evaluate(list) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Split': {
        const [separator, source] = args as [string, unknown];
        return String(this.evaluate(source)).split(separator);
      }
      case 'Fn::Select': {
        const [index, list] = args as [unknown, unknown];
        return (this.evaluate(list) as unknown[])[Number(this.evaluate(index))];
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = args.map((item) => String(this.evaluate(item)));
        return this.template.Mappings?.[map as string]?.[top as string]?.[second as string];
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.evaluate(args[0]))).toString('base64');
      case 'Fn::GetAZs':
        return [`${this.env.region}a`, `${this.env.region}b`];
      case 'Fn::ToJsonString':
        return JSON.stringify(this.evaluate(args[0]));
      default:
        throw new TemplateEvaluationError(`${this.name}: ${name} is not supported locally`);
    }
  }

  private substitute(text: string, variables: Record<string, unknown>): string {
    const replaced = text.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
      if (expression in variables) return String(this.evaluate(variables[expression]));
      if (expression.includes('.') && !expression.startsWith('AWS::')) {
        const [logicalId, ...attribute] = expression.split('.');
        return String(this.getAtt(String(logicalId), attribute.join('.')));
      }
      return String(this.ref(expression));
    });
    // `${!Name}` is Sub's escape for a literal `${Name}`.
    return replaced.replace(/\$\{!/g, '${');
  }
}
