"""`lambdadeploy export --format sam`: the project as an AWS SAM template, for CloudFormation.

sam.py builds the template as data (pure), s3_notifications.py adds what S3 triggers on
existing buckets need, write.py builds the packages and writes the zips and the YAML.
"""

from .sam import CanarySettings, sam_template
from .write import CODE_DIR_NAME, dump_yaml, write_export

__all__ = ["CODE_DIR_NAME", "CanarySettings", "dump_yaml", "sam_template", "write_export"]
