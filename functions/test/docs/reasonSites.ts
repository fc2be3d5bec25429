/**
 * Every `details.reason` the code can give a client, found in the source rather than listed by
 * hand, so the client docs (functions/src/contract/errors.ts) cannot miss one. The TypeScript
 * checker follows each call to its declaration:
 *
 * - `new E(…)` where E is an Error class whose constructor takes a `code` and a `reason` (AppError,
 *   uploadImage's UploadRejection): the reason, the code, and the `status` (uploadImage's HTTP
 *   status) where the constructor has one. An argument counts when its value is fixed: a literal,
 *   a union of literals (`reason: QuotaReason`), a template over those (`quota-${reason}`), or an
 *   omitted argument's default (AppError's `reason = code`).
 * - calls to one-expression wrappers around such a `new` (images/validate.ts `fail`, uploadImage's
 *   `invalid` → `reject` → `new UploadRejection`): the wrapper's
 *   arguments are substituted into the expression it returns.
 * - object literals with a literal `code` and `reason` (runProvider.ts CODE_BY_KIND, uploadImage's
 *   `internal` answer).
 * Reasons passed on from elsewhere (`failure.reason`, a wrapper's own parameter) are read where
 * they are fixed, so each site is counted once.
 */
import path from "node:path";
import ts from "typescript";

export interface ReasonSite {
  reason: string;
  /** The error code, where the site fixes it. */
  code?: string;
  /** uploadImage's HTTP status, where the site fixes it. */
  status?: number;
  /** `src/…:line` */
  at: string;
}

export const SRC_DIR = path.resolve(__dirname, "../../src");

/** The values an expression can take, if fixed: literals, unions of literals, templates over them. */
type Values = (string | number)[] | undefined;
type Env = ReadonlyMap<string, Values>;
type Construct = ts.CallExpression | ts.NewExpression;

export function findReasonSites(srcDir = SRC_DIR): ReasonSite[] {
  const configPath = path.resolve(srcDir, "../tsconfig.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error(`cannot read ${configPath}`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, noEmit: true } });
  const checker = program.getTypeChecker();

  const typeValues = (type: ts.Type): Values => {
    const values: (string | number)[] = [];
    for (const part of type.isUnion() ? type.types : [type]) {
      if (part.isStringLiteral() || part.isNumberLiteral()) values.push(part.value);
      else return undefined;
    }
    return values;
  };

  const valuesOf = (expr: ts.Expression, env: Env): Values => {
    if (ts.isIdentifier(expr) && env.has(expr.text)) return env.get(expr.text);
    if (ts.isStringLiteralLike(expr)) return [expr.text];
    if (ts.isNumericLiteral(expr)) return [Number(expr.text)];
    if (ts.isTemplateExpression(expr)) {
      let results = [expr.head.text];
      for (const span of expr.templateSpans) {
        const values = valuesOf(span.expression, env);
        if (!values) return undefined;
        results = results.flatMap((r) => values.map((v) => r + String(v) + span.literal.text));
      }
      return results;
    }
    return typeValues(checker.getTypeAtLocation(expr));
  };

  const isErrorClass = (type: ts.Type): boolean => {
    if (type.getSymbol()?.getName() === "Error") return true;
    return (type.isClassOrInterface() ? (checker.getBaseTypes(type) ?? []) : []).some(isErrorClass);
  };

  /** The parameters' values at this call, given the values of the enclosing wrapper's parameters. */
  const bind = (call: Construct, params: readonly ts.ParameterDeclaration[], env: Env): Map<string, Values> => {
    const bound = new Map<string, Values>();
    const names = params.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ""));
    const valueAt = (i: number): Values => {
      const arg = call.arguments?.[i];
      if (arg) return valuesOf(arg, env);
      const init = params[i]?.initializer;
      if (!init) return undefined;
      return ts.isIdentifier(init) && names.includes(init.text) ? valueAt(names.indexOf(init.text)) : valuesOf(init, new Map());
    };
    names.forEach((name, i) => bound.set(name, valueAt(i)));
    return bound;
  };

  const siteOf = (call: Construct, env: Env, depth = 0): { reason: Values; code: Values; status: Values } | undefined => {
    const declaration = checker.getResolvedSignature(call)?.getDeclaration();
    if (!declaration || depth > 8 || !("parameters" in declaration)) return undefined;
    const params = declaration.parameters as ts.NodeArray<ts.ParameterDeclaration>;
    const bound = bind(call, params, env);
    if (ts.isNewExpression(call)) {
      // A client-facing error carries both; internal errors (e.g. TransientLimitError) have no code.
      if (!bound.has("reason") || !bound.has("code") || !isErrorClass(checker.getTypeAtLocation(call))) return undefined;
      return { reason: bound.get("reason"), code: bound.get("code"), status: bound.get("status") };
    }
    const body = ts.isArrowFunction(declaration) || ts.isFunctionExpression(declaration) ? declaration.body : undefined;
    return body && (ts.isCallExpression(body) || ts.isNewExpression(body)) ? siteOf(body, bound, depth + 1) : undefined;
  };

  const sites: ReasonSite[] = [];
  const where = (node: ts.Node) => {
    const source = node.getSourceFile();
    return `src/${path.relative(srcDir, source.fileName)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  };
  const single = (values: Values) => (values?.length === 1 ? values[0] : undefined);

  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const site = siteOf(node, new Map());
      const code = single(site?.code);
      const status = single(site?.status);
      for (const reason of site?.reason ?? []) {
        sites.push({
          reason: String(reason),
          ...(code !== undefined && { code: String(code) }),
          ...(typeof status === "number" && { status }),
          at: where(node),
        });
      }
    }
    if (ts.isObjectLiteralExpression(node)) {
      const literal = (name: string) => {
        const prop = node.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name);
        return prop && ts.isStringLiteral(prop.initializer) ? prop.initializer.text : undefined;
      };
      const reason = literal("reason");
      const code = literal("code");
      if (reason && code) sites.push({ reason, code, at: where(node) });
    }
    ts.forEachChild(node, visit);
  };

  for (const file of program.getSourceFiles()) {
    if (file.isDeclarationFile || !file.fileName.startsWith(srcDir + path.sep) || file.fileName.endsWith(".test.ts")) continue;
    visit(file);
  }
  return sites;
}
