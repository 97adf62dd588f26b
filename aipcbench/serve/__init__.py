"""Serving a language model under load: real engines as servers, a load generator, a sweep.

The flow, one module a step:

    engines.py     which server to start (llama.cpp's llama-server, transformers serve, vLLM) or
                   which running endpoint to use, and what each request needs for that engine
    model_files.py the weights a server loads: a user's file or folder, or random weights of a
                   catalog shape written in the engine's format (GGUF, safetensors)
    server.py      one server process: free port, logs, readiness with a deadline, and the whole
                   process group ended on every exit path
    http.py        a small asyncio HTTP/1.1 client that streams a response line by line
    stream_request.py one OpenAI-compatible streamed request, timed from its first byte sent
    load.py        load profiles (fixed concurrency, Poisson arrivals) that only decide when the
                   next request starts
    metrics.py     a level's figures (TTFT, TPOT, ITL, E2E percentiles, tokens/s, goodput)
    sweep.py       concurrency levels until throughput stops rising or the target breaks
    commands.py    ``aipcbench serve``: all of the above, into the results file

Nothing here imports torch: a server is another process, and the client only counts bytes.
"""
