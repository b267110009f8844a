import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// During `npm run dev`, forward /api to a locally running server
// (override with DW_API, e.g. DW_API=http://127.0.0.1:8080).
const api = process.env.DW_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
	plugins: [sveltekit()],
	server: {
		proxy: { '/api': { target: api, changeOrigin: true } }
	}
});
