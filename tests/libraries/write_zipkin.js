// Writes a Zipkin v2 JSON body as services instrumented with zipkin-js send
// it to a Zipkin server (POST /api/v2/spans: an array of spans, each encoded
// by the library's JSON_V2 encoder, in the order they finished). Beside it,
// what the library recorded, span by span, for check.py.
//
// Three services in one process, each its own tracer: requests cross
// between them through B3 headers with the library's own HTTP client and
// server instrumentation, so a server span joins its client's span id (a
// shared span, two halves of one id), the front service makes 128-bit trace
// ids, and the spans' times come from the library's clock.
//
// Usage: node write_zipkin.js OUT.json EXPECTED.json
'use strict';
const fs = require('fs');
const { Tracer, BatchRecorder, ExplicitContext, Instrumentation, jsonEncoder, option } = require('zipkin');

const [outPath, expectedPath] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const encoded = [];
const recorded = [];
const logger = {
  logSpan(span) {
    encoded.push(jsonEncoder.JSON_V2.encode(span));
    recorded.push(span);
  },
};

function service(name, port, traceId128Bit) {
  const tracer = new Tracer({
    ctxImpl: new ExplicitContext(),
    recorder: new BatchRecorder({ logger }),
    localServiceName: name,
    traceId128Bit,
  });
  return {
    name,
    tracer,
    server: new Instrumentation.HttpServer({ tracer, port }),
    client: (remoteServiceName) => new Instrumentation.HttpClient({ tracer, remoteServiceName }),
  };
}
const frontend = service('frontend', 8080, true);
const cart = service('cart', 8081, false);
const inventory = service('inventory', 8082, false);

// A request served by `svc`: its headers read as the library's HTTP server
// instrumentation reads them, `body` run in its span's context.
function serve(svc, method, url, headers, body) {
  const readHeader = (name) => {
    const value = headers[name.toLowerCase()] ?? headers[name];
    return value === undefined ? option.None : new option.Some(value);
  };
  return svc.tracer.scoped(async () => {
    const id = svc.server.recordRequest(method, url, readHeader);
    const status = await body();
    svc.tracer.scoped(() => svc.server.recordResponse(id, status));
    return status;
  });
}

// A call from `svc` to another service: the library's HTTP client
// instrumentation adds the B3 headers.
async function call(svc, remote, method, url, handler) {
  const client = svc.client(remote);
  const { id, request } = svc.tracer.scoped(() => {
    const req = client.recordRequest({ headers: {} }, url, method);
    return { id: svc.tracer.id, request: req };
  });
  const status = await handler(request.headers);
  svc.tracer.scoped(() => client.recordResponse(id, status));
  return status;
}

async function reserve(headers, fail) {
  return serve(inventory, 'post', 'http://inventory/reserve', headers, async () => {
    await sleep(2);
    return fail ? 500 : 200;
  });
}

async function checkout(headers, fail) {
  return serve(cart, 'post', 'http://cart/checkout', headers, async () => {
    const parent = cart.tracer.id;
    await cart.tracer.letId(parent, () => cart.tracer.local('load cart', () => sleep(1)));
    return cart.tracer.letId(parent, () => call(cart, 'inventory', 'post', 'http://inventory/reserve',
      (h) => reserve(h, fail)));
  });
}

async function page(fail) {
  return serve(frontend, 'get', 'http://frontend/checkout', {}, async () => {
    const parent = frontend.tracer.id;
    const status = await frontend.tracer.letId(parent, () => call(frontend, 'cart', 'post', 'http://cart/checkout',
      (h) => checkout(h, fail)));
    return status >= 500 ? 502 : status;
  });
}

function micros(v) {
  return v === undefined ? null : v;
}

async function main() {
  for (let n = 0; n < 5; ++n) await page(n === 2);
  // A request that reaches cart without B3 headers starts a trace there.
  await checkout({}, false);

  fs.writeFileSync(outPath, `[${encoded.join(',')}]\n`);
  const spans = recorded.map((s) => ({
    traceId: s.traceId,
    spanId: s.id,
    parentSpanId: s.parentId || '',
    shared: Boolean(s.shared),
    service: s.localEndpoint ? s.localEndpoint.serviceName : '',
    operation: s.name || '',
    kind: s.kind ? s.kind.toLowerCase() : 'internal',
    error: s.tags.error !== undefined,
    startUs: micros(s.timestamp),
    durationUs: micros(s.duration),
  }));
  fs.writeFileSync(expectedPath, JSON.stringify({ writer: 'zipkin-js', spans }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
