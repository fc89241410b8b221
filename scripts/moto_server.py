#!/usr/bin/env python3
"""moto in server mode, as `moto_server -H HOST -p PORT` starts it, with one difference: DynamoDB
requests are served one at a time. Real DynamoDB applies each conditional write atomically; moto's
threaded server does not, so two `ADD n :one IF n < :max` at once can both pass there, and a test
of a limit under concurrency fails for moto's sake, not ours. Other services (SQS long polls)
stay concurrent."""
import argparse
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

DYNAMODB = threading.Lock()


def serialising_dynamodb(app):
    def wsgi(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with DYNAMODB:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wsgi


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialising_dynamodb(app), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
