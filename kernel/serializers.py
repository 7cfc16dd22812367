"""JSON serialization that keeps timestamps to the microsecond.

Django's JSON encoder cuts datetimes to milliseconds; the registry's dumps must
restore history and change times exactly (partners sync on them). Registered as
the `exactjson` format; its output is plain JSON that Django's own deserializer
reads back.
"""

import datetime

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer

__all__ = ["Deserializer", "Serializer"]


class ExactJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = ExactJSONEncoder
