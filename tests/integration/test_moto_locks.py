"""The embedded AWS under concurrent requests (issue 9: moto raised "dictionary changed size during
iteration" inside TransactWriteItems under ingest load, and a cancelled transaction put back its
tables as they were before it, undoing other requests' writes). ``make run`` must lose nothing."""

import threading
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

THREADS = 8
ROUNDS = 25


def test_concurrent_transactions_all_succeed_and_cancelled_ones_undo_nothing_else(stack, moto_endpoint):
    table = stack.tables["IncidentEventsTable"]
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=THREADS * 2),
    )
    run = uuid.uuid4().hex
    # Tables of some size: moto copies a whole table for each transaction.
    for n in range(200):
        client.put_item(TableName=table, Item=_item(f"{run}-fill", f"{n:04d}"))

    written: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(thread: int) -> None:
        key = f"{run}-{thread}"
        try:
            for n in range(ROUNDS):
                pair = [(key, f"{n:04d}-a"), (key, f"{n:04d}-b")]
                client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": _item(*k)}} for k in pair]
                )
                try:  # a transaction whose condition fails: cancelled, and must undo only itself
                    client.transact_write_items(
                        TransactItems=[
                            {"Put": {"TableName": table, "Item": _item(key, f"{n:04d}-never")}},
                            {
                                "Put": {
                                    "TableName": table,
                                    "Item": _item(f"{run}-fill", "0000"),
                                    "ConditionExpression": "attribute_not_exists(event_id)",
                                }
                            },
                        ]
                    )
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "TransactionCanceledException"
                client.put_item(TableName=table, Item=_item(key, f"{n:04d}-c"))
                with lock:
                    written.extend([*pair, (key, f"{n:04d}-c")])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    stored = set()
    for thread in range(THREADS):
        pages = client.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="incident_key = :k",
            ExpressionAttributeValues={":k": {"S": f"{run}-{thread}"}},
            ConsistentRead=True,
        )
        stored |= {(i["incident_key"]["S"], i["event_id"]["S"]) for page in pages for i in page["Items"]}
    assert stored == set(written)
    assert len(written) == THREADS * ROUNDS * 3


def _item(key: str, event_id: str) -> dict:
    return {"incident_key": {"S": key}, "event_id": {"S": event_id}, "at": {"N": "1"}, "type": {"S": "note"}}
