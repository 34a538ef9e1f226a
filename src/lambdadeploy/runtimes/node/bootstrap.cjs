'use strict';
/*
 * In-subprocess bootstrap: one invocation of a Lambda Node.js handler, as AWS's runtime does it.
 *
 * lambdadeploy's local runner starts it as `node [heap flags] bootstrap.cjs SPEC_FILE RESULT_FILE`
 * with the node of the function's runtime (18 to 24), so it uses Node's built-ins only. It loads the
 * handler, calls it with the event and a Lambda-like context, and writes the outcome to a JSON result
 * file, then exits: what the handler left in the event loop is dropped, as Lambda freezes it.
 *
 * The contract follows aws-lambda-nodejs-runtime-interface-client: version 3 (nodejs22.x and
 * earlier: callback handlers, context.succeed/fail/done, callbackWaitsForEmptyEventLoop, an async
 * handler whose promise never settles fails with Runtime.NodeJsExit) and the nodejs24.x runtime
 * (handlers with three parameters fail at init with Runtime.CallbackHandlerDeprecated, the context
 * has no callback methods, an unsettled promise ends the runtime with exit status 13). Error
 * documents ({errorType, errorMessage, trace}) and log lines (TIME\tREQUEST\tLEVEL\tmessage, errors
 * as "Invoke Error \t{json}") are the runtime's; the runner writes START/END/REPORT.
 */

const fs = require('fs');
const path = require('path');
const util = require('util');
const Module = require('module');
const { pathToFileURL } = require('url');
const { Writable } = require('stream');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const resultFile = process.argv[3];
const legacy = spec.callbacks === true; // nodejs22.x and earlier
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const CALLBACK_DEPRECATED = 'ERROR: AWS Lambda has removed support for callback-based function handlers starting '
  + 'with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 '
  + 'or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.';
const CALLBACK_WARNING = 'AWS Lambda plans to remove support for callback-based function handlers starting with '
  + 'Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For '
  + 'more information and to provide feedback on this change, see '
  + 'https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set '
  + 'the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.';
const NODEJS_EXIT = 'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly '
  + 'caused by a Promise that was never settled. For more information, see '
  + 'https://nodejs.org/docs/latest/api/process.html#exit-codes';

let currentRequestId; // undefined during init, as in the runtime's log lines
let started = 0;
let responded = false;
let beforeExit = () => {};

// ---- logging: the console as the runtime patches it (text format) ----

function logLine(level, args) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARN', error: 'ERROR', trace: 'TRACE',
    fatal: 'FATAL' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => logLine(level, args);
  }
}

function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const copy = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') copy.stack = value.stack.split('\n');
    return copy;
  }
  return value;
}

function logError(message, error) {
  const err = error instanceof Error ? error : new Error(error);
  let text;
  try {
    text = '\t' + JSON.stringify(err, (_key, value) => withEnumerableProperties(value));
  } catch (_) {
    text = '\t' + JSON.stringify(errorDocument(err));
  }
  console.error(message, text);
}

// ---- errors ----

function runtimeError(kind, message, stack) {
  const error = new Error(message);
  Error.captureStackTrace(error, runtimeError);
  error.name = `Runtime.${kind}`;
  const frames = String(stack || error.stack).split('\n').filter((line) => /^\s+at /.test(line));
  error.stack = [`${error.name}: ${message}`, ...frames].join('\n');
  return error;
}

function errorDocument(error) {
  try {
    if (util.types.isNativeError(error) || (error && typeof error.name === 'string'
        && typeof error.message === 'string' && typeof error.stack === 'string')) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem '
      + 'while retrieving one or more of its message, name, and stack' };
  }
}

// ---- the outcome ----

function peakRssKb() {
  try {
    const match = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch (_) { /* not Linux */ }
  return process.resourceUsage ? process.resourceUsage().maxRSS : 0;
}

function finish(outcome, exitCode) {
  responded = true;
  const result = Object.assign({ status: outcome.error ? 'error' : 'ok', payload_b64: null, error: null,
    duration_ms: started ? Number(process.hrtime.bigint() - started) / 1e6 : 0, logged: true,
    maxrss_kb: peakRssKb() }, outcome);
  fs.writeFileSync(resultFile + '.tmp', JSON.stringify(result));
  fs.renameSync(resultFile + '.tmp', resultFile);
  process.exit(exitCode || 0);
}

function respond(result) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (_) {
    const error = legacy ? new Error('Unable to stringify response body')
      : runtimeError('JSONStringifyError', 'Unable to stringify response body');
    logError(legacy ? 'Uncaught Exception' : 'Invoke Error', error);
    finish({ error: errorDocument(error) });
    return;
  }
  finish({ payload_b64: Buffer.from(body, 'utf8').toString('base64') });
}

function respondError(error) {
  finish({ error: errorDocument(error) });
}

function signalReady() {
  try {
    fs.writeSync(spec.ready_fd, 'R');
    fs.closeSync(spec.ready_fd);
  } catch (_) { /* the runner is gone */ }
}

// ---- loading the handler ----

function tryRequireFile(file, extension) {
  const target = file + (extension || '');
  return fs.existsSync(target) ? require(target) : undefined;
}

async function tryImport(file, extension) {
  const target = file + (extension || '');
  return fs.existsSync(target) ? import(pathToFileURL(target).href) : undefined;
}

function packageTypeIsModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
    } catch (error) {
      console.warn(`${manifest} cannot be read, it will be ignored for ES module detection purposes.`, error);
      return false;
    }
  }
  const parent = path.dirname(folder);
  return parent === folder ? false : packageTypeIsModule(parent);
}

async function loadModule(root, moduleRoot, moduleName) {
  const file = path.resolve(root, moduleRoot, moduleName);
  if (!legacy) { // nodejs24.x: import() each candidate in turn
    for (const extension of ['', '.js', '.mjs', '.cjs']) {
      const loaded = await tryImport(file, extension);
      if (loaded) return loaded;
    }
  } else {
    const extensionless = tryRequireFile(file);
    if (extensionless) return extensionless;
    const esm = fs.existsSync(file + '.js') && packageTypeIsModule(path.dirname(file + '.js'));
    if (!esm) {
      const loaded = tryRequireFile(file, '.js');
      if (loaded) return loaded;
    }
    const loaded = (esm && await tryImport(file, '.js')) || await tryImport(file, '.mjs')
      || tryRequireFile(file, '.cjs');
    if (loaded) return loaded;
  }
  return require(require.resolve(moduleName, { paths: [root, path.join(root, moduleRoot)] }));
}

function findIn(handlerPath, object) {
  return handlerPath.split('.').reduce((nested, key) => (nested ? nested[key] : undefined), object);
}

async function loadHandler(handlerString) {
  if (handlerString.includes('..')) {
    throw runtimeError('MalformedHandlerName', `'${handlerString}' is not a valid handler name. Use absolute `
      + 'paths when specifying root directories in handler names.');
  }
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(base));
  const match = base.match(/^([^.]*)\.(.*)$/);
  if (!match) throw runtimeError('MalformedHandlerName', 'Bad handler');
  let app;
  try {
    app = await loadModule(spec.task_root, moduleRoot, match[1]);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError('UserCodeSyntaxError', String(error), error.stack);
    if (error && error.code === 'MODULE_NOT_FOUND') throw runtimeError('ImportModuleError', sdkHint(String(error)));
    throw error;
  }
  let handler = findIn(match[2], app);
  if (!handler && !legacy && app && typeof app === 'object' && 'default' in app) handler = findIn(match[2], app.default);
  if (!handler) throw runtimeError('HandlerNotFound', `${handlerString} is undefined or not exported`);
  if (typeof handler !== 'function') throw runtimeError('HandlerNotFound', `${handlerString} is not a function`);
  return handler;
}

function sdkHint(message) {
  if (!/Cannot find (module|package) '@aws-sdk\//.test(message)) return message;
  return message + '\n(lambdadeploy sandbox: the Lambda runtime provides @aws-sdk/* and lambdadeploy leaves it '
    + 'out of the package, but this machine has no copy of it; set include_runtime_packages: true to ship it)';
}

function installGlobals() {
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === '1' || flag === 'true') return;
  globalThis.awslambda = Object.assign({}, globalThis.awslambda, {
    streamifyResponse: (handler) => {
      handler[STREAMING] = 'response';
      return handler;
    },
    HttpResponseStream: { from: (stream) => stream },
  });
}

// ---- one invocation ----

function baseContext() {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: spec.invoked_function_arn,
    awsRequestId: spec.request_id,
    tenantId: undefined,
  };
}

function invokeLegacy(handler, event, deadline, isAsync) {
  let waitForEmptyEventLoop = true;
  let completed = false;
  const complete = (result) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    respond(result);
  };
  const postError = (error) => {
    completed = true;
    logError('Invoke Error', error);
    respondError(error);
  };
  const callback = (error, result) => {
    beforeExit = () => {};
    if (error !== undefined && error !== null) postError(error);
    else if (!waitForEmptyEventLoop) complete(result);
    else beforeExit = () => setImmediate(() => complete(result));
  };
  const done = (error, result) => {
    beforeExit = () => {};
    if (error !== undefined && error !== null) postError(error);
    else complete(result);
  };
  let finished = false; // only the first call of callback, succeed, fail or done counts
  const once = (fn) => (...args) => {
    if (!finished) {
      fn(...args);
      finished = true;
    }
  };
  const context = Object.assign({
    get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
    set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
    succeed: once((result) => done(null, result)),
    fail: once((error) => (error === undefined || error === null ? done('handled') : done(error, null))),
    done: once(done),
  }, baseContext(), { getRemainingTimeInMillis: () => deadline - Date.now() });
  const wrappedCallback = once(callback);
  beforeExit = () => { // the event loop emptied and nothing was reported
    completed = true;
    if (isAsync) postError(runtimeError('NodeJsExit', NODEJS_EXIT));
    else respond(null);
  };
  started = process.hrtime.bigint();
  try {
    const result = handler(event, context, wrappedCallback);
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (error) {
    wrappedCallback(error);
  }
}

async function invokeModern(handler, event, deadline) {
  const context = Object.assign(baseContext(), { getRemainingTimeInMillis: () => deadline - Date.now() });
  beforeExit = () => process.exit(13); // unsettled: the runtime's top-level await ends it, no response
  started = process.hrtime.bigint();
  let result;
  try {
    result = await handler(event, context);
  } catch (error) {
    logError('Invoke Error', error);
    respondError(error);
    return;
  }
  respond(result);
}

async function invokeStreaming(handler, event, deadline) {
  const chunks = [];
  const stream = new Writable({ write(chunk, _encoding, next) { chunks.push(Buffer.from(chunk)); next(); } });
  stream.setContentType = () => {};
  const context = Object.assign(baseContext(), { getRemainingTimeInMillis: () => deadline - Date.now() });
  started = process.hrtime.bigint();
  try {
    await handler(event, stream, context);
  } catch (error) {
    logError('Invoke Error', error);
    respondError(error);
    return;
  }
  finish({ payload_b64: Buffer.concat(chunks).toString('base64') });
}

function onFatal(message, exitCode) {
  return (error) => {
    if (responded) return;
    logError(message, error);
    finish({ error: errorDocument(error) }, exitCode);
  };
}

async function main() {
  patchConsole();
  installGlobals();
  if (!process.env.NODE_PATH) { // as Lambda's bootstrap: layers, the runtime's modules, the task
    process.env.NODE_PATH = [...spec.layer_paths, ...spec.runtime_paths.map((p) => path.join(p, 'node_modules')),
      ...spec.runtime_paths, spec.task_root].join(path.delimiter);
    Module._initPaths();
  }
  process.on('uncaughtException', onFatal('Uncaught Exception', 129));
  process.on('unhandledRejection', (reason) => {
    onFatal('Unhandled Promise Rejection', 128)(runtimeError('UnhandledPromiseRejection', String(reason)));
  });
  process.on('beforeExit', () => beforeExit());
  let handler;
  try {
    handler = await loadHandler(spec.handler);
    if (!legacy && handler.length >= 3 && handler[STREAMING] !== 'response') {
      throw runtimeError('CallbackHandlerDeprecated', CALLBACK_DEPRECATED);
    }
  } catch (error) {
    logError(legacy ? 'Uncaught Exception' : 'Init Error', error);
    signalReady();
    respondError(error);
    return;
  }
  const isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  if (legacy && handler.length === 3 && !isAsync && handler[STREAMING] !== 'response'
      && process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) {
    console.warn(CALLBACK_WARNING);
  }
  signalReady();
  currentRequestId = spec.request_id;
  const deadline = Date.now() + spec.timeout * 1000;
  if (handler[STREAMING] === 'response') await invokeStreaming(handler, spec.event, deadline);
  else if (legacy) invokeLegacy(handler, spec.event, deadline, isAsync);
  else await invokeModern(handler, spec.event, deadline);
}

main();
