"""The HTTP/WebSocket edge: dependencies, middleware, one router per resource."""
