// Shared vitest setup: quiet the SDK's Node 20 deprecation notice so test output stays readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
