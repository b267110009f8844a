// Pure single-page app: everything is rendered in the browser and the
// server answers every non-/api path with index.html.
export const ssr = false;
export const prerender = false;
