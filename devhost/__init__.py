"""Local stand-in for the Azure Functions host (`func start`) built on uvicorn.

Loads the v2-programming-model `FunctionApp` unchanged and serves its HTTP, timer and
queue triggers with the host's semantics (routes, auth levels, host.json queue options).
"""
