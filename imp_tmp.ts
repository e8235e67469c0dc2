const rss = () => Math.round(Deno.memoryUsage().rss / 1048576 * 10) / 10;
const heap = () => Math.round(Deno.memoryUsage().heapUsed / 1048576 * 10) / 10;
const t0 = performance.now(); const r0 = rss(), h0 = heap();
const which = Deno.args[0];
if (which === "ajv") { const { Ajv2020 } = await import("npm:ajv@8/dist/2020.js"); } 
else if (which) await import(which);
const t1 = performance.now();
console.log(which, "ms", Math.round(t1 - t0), "rss", r0, "->", rss(), "heap", h0, "->", heap());
