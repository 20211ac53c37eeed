// Writes OTLP JSON lines as a service instrumented with OpenTelemetry JS
// and exported to an OpenTelemetry Collector's file exporter would: one
// TracesData document a line, each an export batch of one service's spans
// (grouped by service, in the order they ended), serialized by the SDK's own
// JSON serializer. Then the same spans as OpenTelemetry's Zipkin exporter
// posts them (a Zipkin v2 body, by its own transform). Beside each, what the
// SDK recorded, span by span, for check.py to hold trace-assemble's report
// against (Zipkin has no links: the second leaves them out).
//
// Three services in one process, each its own tracer provider; requests
// cross between them through W3C traceparent headers (so a server span's
// parent is remote), a queue message starts a new trace with a link to the
// producer's span, and times come from the SDK's clock as requests run.
//
// Usage: node write_otel.js OUT.jsonl EXPECTED.json ZIPKIN.json ZIPKIN-EXPECTED.json
'use strict';
const fs = require('fs');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');
// The Zipkin exporter's own span transform (what its export() posts).
const { toZipkinSpan, defaultStatusCodeTagName, defaultStatusErrorTagName } =
  require('@opentelemetry/exporter-zipkin/build/src/transform');

const [outPath, expectedPath, zipkinPath, zipkinExpectedPath] = process.argv.slice(2);
const propagator = new W3CTraceContextPropagator();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function service(name) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': name, 'service.version': '1.4.2', 'host.name': `${name}-7f9c` }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { name, exporter, tracer: provider.getTracer(`${name}-instrumentation`, '0.9.0') };
}
const frontend = service('frontend');
const cart = service('cart');
const worker = service('order-worker');

// An outgoing request: a client span, its context in the headers.
function inject(ctx) {
  const headers = {};
  propagator.inject(ctx, headers, api.defaultTextMapSetter);
  return headers;
}
function extract(headers) {
  return propagator.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
}

async function withSpan(svc, name, options, parent, body) {
  const span = svc.tracer.startSpan(name, options, parent);
  const ctx = api.trace.setSpan(parent, span);
  try {
    return await body(span, ctx);
  } finally {
    span.end();
  }
}

const queue = [];

// cart's side of POST /cart/checkout.
async function cartCheckout(headers, items, fail) {
  const parent = extract(headers);
  return withSpan(cart, 'POST /cart/checkout', { kind: api.SpanKind.SERVER, attributes: {
    'http.request.method': 'POST', 'url.path': '/cart/checkout', 'cart.items': items } }, parent, async (span, ctx) => {
    await withSpan(cart, 'SELECT cart_items', { kind: api.SpanKind.CLIENT, attributes: {
      'db.system': 'postgresql', 'db.query.text': 'SELECT * FROM cart_items WHERE cart_id = $1' } }, ctx, async () => {
      await sleep(2);
    });
    if (fail) {
      await withSpan(cart, 'reserve stock', { kind: api.SpanKind.INTERNAL }, ctx, async (inner) => {
        await sleep(1);
        const error = new Error('stock service unavailable');
        inner.recordException(error);
        inner.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
      });
      span.setAttribute('http.response.status_code', 503);
      span.setStatus({ code: api.SpanStatusCode.ERROR });
      return 503;
    }
    await withSpan(cart, 'orders publish', { kind: api.SpanKind.PRODUCER, attributes: {
      'messaging.system': 'kafka', 'messaging.destination.name': 'orders' } }, ctx, async (producer, pctx) => {
      queue.push({ headers: inject(pctx), items });
      await sleep(1);
    });
    span.setAttribute('http.response.status_code', 200);
    return 200;
  });
}

// frontend's GET /checkout, calling cart.
async function checkout(n, fail) {
  return withSpan(frontend, 'GET /checkout', { kind: api.SpanKind.SERVER, attributes: {
    'http.request.method': 'GET', 'url.path': '/checkout', 'user.premium': n % 2 === 0, 'request.weight': 0.25 * n } },
  api.ROOT_CONTEXT, async (span, ctx) => {
    await withSpan(frontend, 'render cart', { kind: api.SpanKind.INTERNAL }, ctx, async () => sleep(1));
    const code = await withSpan(frontend, 'POST /cart/checkout', { kind: api.SpanKind.CLIENT, attributes: {
      'http.request.method': 'POST', 'server.address': 'cart' } }, ctx, async (client, cctx) => {
      const status = await cartCheckout(inject(cctx), n + 1, fail);
      client.setAttribute('http.response.status_code', status);
      if (status >= 500) client.setStatus({ code: api.SpanStatusCode.ERROR });
      return status;
    });
    span.addEvent('checkout answered', { 'http.response.status_code': code });
    span.setAttribute('http.response.status_code', code);
    if (code >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'cart failed' });
  });
}

// order-worker: each message starts a trace of its own, linked to the
// producer's span.
async function work() {
  for (const message of queue.splice(0)) {
    const producer = api.trace.getSpanContext(extract(message.headers));
    await withSpan(worker, 'orders process', { kind: api.SpanKind.CONSUMER, root: true, links: [{ context: producer }],
      attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': 1 } }, api.ROOT_CONTEXT,
    async (span, ctx) => {
      await withSpan(worker, 'charge card', { kind: api.SpanKind.CLIENT }, ctx, async () => sleep(2));
      await withSpan(worker, 'send receipt', { kind: api.SpanKind.INTERNAL }, ctx, async () => sleep(1));
    });
  }
}

// An SDK time ([seconds, nanoseconds]) in nanoseconds, exactly.
function ns(t) {
  return (BigInt(t[0]) * 1000000000n + BigInt(t[1])).toString();
}

async function main() {
  for (let n = 0; n < 6; ++n) await checkout(n, n === 3);
  await work();

  const lines = [];
  const expected = [];
  const zipkin = [];
  for (const svc of [frontend, cart, worker]) {
    const spans = svc.exporter.getFinishedSpans();
    // A batch span processor exports up to its batch size at a time.
    for (let i = 0; i < spans.length; i += 8) {
      lines.push(Buffer.from(JsonTraceSerializer.serializeRequest(spans.slice(i, i + 8))).toString('utf8'));
    }
    for (const s of spans) zipkin.push(toZipkinSpan(s, svc.name, defaultStatusCodeTagName, defaultStatusErrorTagName));
    for (const s of spans) {
      const parent = s.parentSpanContext;
      expected.push({
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: parent ? parent.spanId : '',
        parentRemote: Boolean(parent && parent.isRemote),
        service: svc.name,
        operation: s.name,
        kind: ['internal', 'server', 'client', 'producer', 'consumer'][s.kind],
        error: s.status.code === api.SpanStatusCode.ERROR,
        startNs: ns(s.startTime),
        endNs: ns(s.endTime),
        events: s.events.length,
        links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
      });
    }
  }
  fs.writeFileSync(outPath, lines.join('\n') + '\n');
  fs.writeFileSync(expectedPath, JSON.stringify({ writer: 'opentelemetry-js', spans: expected }, null, 1) + '\n');
  fs.writeFileSync(zipkinPath, JSON.stringify(zipkin) + '\n');
  const noLinks = expected.map(({ links, ...rest }) => rest);
  fs.writeFileSync(zipkinExpectedPath,
    JSON.stringify({ writer: 'opentelemetry-js, Zipkin exporter', spans: noLinks }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
