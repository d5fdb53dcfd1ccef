// Shared vitest setup: keep test output readable. Handlers log nothing unless a test asks, and the
// SDK's Node 20 deprecation notice is silenced (Lambda itself runs Node 22).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
